// The device side of the link on a host: POSIX UDP, link emulation (link.h), resends on a short
// timer and a deadline after which the caller uses its local prediction. One request at a time
// per client (a device has one image in flight); many clients may run in parallel threads.
//
// Resends: a request whose reply has not arrived is sent again (all its fragments, same sequence
// number) after the resend interval, counted from when its last fragment left the emulated link.
// The interval adapts: twice the smoothed round trip of requests answered without a resend
// (Karn's rule), at least 10 ms, at most a third of the deadline, growing by half after each
// resend of the same request. The server answers a resend of an answered request from its cache.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "client/link.h"
#include "wire/host/keys.h"
#include "wire/host/udp.h"
#include "wire/wire.h"

namespace agilenn::client {

struct ClientOptions {
  sockaddr_in server{};
  uint32_t device_id = 1;
  wire::Key key{};
  size_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;
  double deadline_ms = 200;  // from the start of a request to the fallback
  double resend_ms = 0;      // 0: adaptive (above); > 0: this fixed interval
  LinkOptions link;
};

struct RemoteResult {
  bool answered = false;        // an authentic reply with status OK arrived before the deadline
  uint8_t status = 0;           // the reply's status when one arrived (AGN_WIRE_REPLY_*)
  bool replied = false;         // any authentic reply arrived (answered, or an error status)
  std::vector<float> logits;    // the remote logits when answered
  double round_trip_ms = 0;     // request start -> reply assembled, or -> deadline
  double server_ms = 0;         // service time the server reported
  size_t wire_bytes = 0;        // every datagram sent or received for it, + 28 B IPv4/UDP each
  size_t datagrams = 0;         // how many datagrams those were
  int transmissions = 0;        // times the request was sent (1: no resend)
};

class RemoteClient {
 public:
  explicit RemoteClient(const ClientOptions& options);  // throws on a bad option or socket error

  // Sends one request message (request header + stream) and waits for its reply or the deadline.
  // Returns exactly once per call. Every received datagram is fully checked (parse, CRC, device,
  // sequence, tag) before it is used; anything else is ignored.
  RemoteResult request(std::span<const uint8_t> message);

  uint32_t next_seq() const { return seq_; }

 private:
  struct Timed {
    Clock::time_point at;
    std::vector<uint8_t> bytes;
  };
  void transmit_all(const std::vector<std::vector<uint8_t>>& fragments, Clock::time_point now, RemoteResult& r,
                    Clock::time_point& last_leaves);

  ClientOptions options_;
  wire::UdpSocket socket_;
  LinkDirection up_, down_;
  uint32_t seq_;
  double srtt_ms_;
  std::deque<Timed> outgoing_;  // due to be really sent, in time order
  std::deque<Timed> incoming_;  // received, to be looked at once the emulated link delivers them
  std::vector<uint8_t> reply_buffer_, reply_bitmap_, receive_buffer_;
};

}  // namespace agilenn::client
