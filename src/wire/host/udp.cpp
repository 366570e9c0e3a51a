#include "wire/host/udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace agilenn::wire {

sockaddr_in resolve_ipv4(const std::string& host, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) == 1) return address;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    throw std::invalid_argument("cannot resolve host '" + host + "' to an IPv4 address");
  }
  address.sin_addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  freeaddrinfo(found);
  return address;
}

sockaddr_in parse_host_port(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    throw std::invalid_argument("'" + host_port + "': expected HOST:PORT");
  }
  const std::string port_text = host_port.substr(colon + 1);
  size_t used = 0;
  long port = -1;
  try {
    port = std::stol(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port_text.size() || port < 1 || port > 65535) {
    throw std::invalid_argument("'" + host_port + "': the port must be a number in 1..65535");
  }
  return resolve_ipv4(host_port.substr(0, colon), static_cast<uint16_t>(port));
}

std::string to_string(const sockaddr_in& address) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
}

bool is_loopback(const sockaddr_in& address) { return (ntohl(address.sin_addr.s_addr) >> 24) == 127; }

UdpSocket::UdpSocket() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create a UDP socket");
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void UdpSocket::bind(const sockaddr_in& address) {
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot bind UDP " + to_string(address));
  }
}

sockaddr_in UdpSocket::local_address() const {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
  return address;
}

void UdpSocket::set_buffer_sizes(int bytes) {
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

bool UdpSocket::send_to(const uint8_t* data, size_t size, const sockaddr_in& to) const {
  for (;;) {
    const ssize_t sent = ::sendto(fd_, data, size, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (sent == static_cast<ssize_t>(size)) return true;
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The send buffer is full: wait briefly for room rather than dropping our own datagram.
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 10) > 0) continue;
    }
    return false;
  }
}

long UdpSocket::receive(uint8_t* data, size_t capacity, sockaddr_in* from) const {
  for (;;) {
    sockaddr_in source{};
    socklen_t size = sizeof source;
    // MSG_TRUNC: the return value is the datagram's real length even when it did not fit.
    const ssize_t got = ::recvfrom(fd_, data, capacity, MSG_TRUNC, reinterpret_cast<sockaddr*>(&source), &size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (from != nullptr) *from = source;
    return static_cast<long>(got);
  }
}

bool UdpSocket::wait_readable(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

}  // namespace agilenn::wire
