// Small POSIX UDP helpers shared by the server and the host client (IPv4).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace agilenn::wire {

// "HOST:PORT" or HOST and a port -> IPv4 address (numeric or resolved by getaddrinfo). Throws
// std::invalid_argument naming the text on failure.
sockaddr_in resolve_ipv4(const std::string& host, uint16_t port);
sockaddr_in parse_host_port(const std::string& host_port);
std::string to_string(const sockaddr_in& address);
bool is_loopback(const sockaddr_in& address);

// An owned non-blocking UDP socket.
class UdpSocket {
 public:
  UdpSocket();  // throws std::system_error
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  void bind(const sockaddr_in& address);  // throws std::system_error naming the address
  sockaddr_in local_address() const;
  // Large kernel buffers, so bursts of datagrams from many devices are not lost in the kernel.
  void set_buffer_sizes(int bytes);
  // Sends one datagram; returns false if the kernel refused it (counted by the caller).
  bool send_to(const uint8_t* data, size_t size, const sockaddr_in& to) const;
  // Receives one datagram if one is waiting: its size (a datagram larger than `capacity` is
  // reported with its full size so that the caller can count it as oversized), or -1 if none.
  long receive(uint8_t* data, size_t capacity, sockaddr_in* from) const;
  // Waits up to timeout_ms (< 0: forever) for a datagram; false on timeout or signal.
  bool wait_readable(int timeout_ms) const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace agilenn::wire
