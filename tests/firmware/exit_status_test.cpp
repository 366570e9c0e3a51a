// main's return value must reach QEMU's exit status (CTest checks for 3), so that a failing
// on-target test cannot pass unnoticed.
int main() { return 3; }
