// What the firmware app (firmware/app) and the host (src/mcu: the radio bridge and `agilenn mcu
// run`) exchange. Plain C, shared by both builds, so that the two sides cannot disagree.
//
// 1. UART frames (QEMU's UART0 <-> the bridge). Every frame is a 4-byte header and a body:
//      byte 0 AGN_LINK_SYNC, byte 1 the type, bytes 2-3 the body size (u16 LE), then the body.
//    firmware -> bridge:
//      AGN_LINK_DATAGRAM  one wire datagram (include/agilenn/wire_format.h) of the request
//      AGN_LINK_SEND      body: the request's sequence number (u32 LE). The request is complete:
//                         the bridge sends its datagrams to the server as one burst, as the
//                         radio would have (the UART is far slower than any radio), and starts
//                         its wall-clock guard for the reply.
//    bridge -> firmware:
//      AGN_LINK_DATAGRAM  a datagram the server sent (the firmware checks it fully)
//      AGN_LINK_NO_REPLY  body: sequence number (u32 LE): no complete reply came within the
//                         bridge's guard time; the firmware falls back to its local prediction.
//    Bytes outside frames (start-up or fault text on UART0) are skipped up to the next
//    AGN_LINK_SYNC; the bridge keeps them for error messages.
//
// 2. Command line (QEMU's -append), words "key=value" separated by spaces: images=PATH
//    results=PATH count=N cpu_khz=N rate_bps=N delay_us=N deadline_us=N device_id=N seq=N
//    max_datagram=N key=<32 hex digits>. Paths must not contain spaces.
//
// 3. Results file (semihosting, written by the firmware): a header, then one record per image,
//    all little-endian.
//      header: u32 AGN_APP_RESULTS_MAGIC, u16 AGN_APP_RESULTS_VERSION, u16 classes,
//              u16 record size (AGN_APP_RECORD_FIXED + classes), u8 codec (agn_codec: the default
//              coder; a request whose rANS stream does not fit goes packed, runtime.h),
//              u8 reserved 0, u32 CRC-32 of the model bytes the firmware ran
//      record: see the AGN_APP_REC_* offsets; then the Local NN's int8 logits (classes bytes).
//    Times are on the modelled clock: compute = instructions / cpu clock (1 cycle per
//    instruction); each datagram of n bytes occupies the link for (n + AGN_WIRE_IP_UDP_OVERHEAD) * 8 / rate
//    (IPv4 + UDP headers), uplink then downlink; each direction adds delay_us; the server's time is the
//    service time its reply reports. The deadline counts from the end of compute (like the host
//    client's); a reply arriving later is ignored (outcome LATE).
#ifndef AGILENN_MCU_APP_LINK_H
#define AGILENN_MCU_APP_LINK_H

#define AGN_LINK_SYNC 0xA5u
#define AGN_LINK_HEADER 4u
#define AGN_LINK_DATAGRAM 0x44u  // 'D'
#define AGN_LINK_SEND 0x53u      // 'S'
#define AGN_LINK_NO_REPLY 0x54u  // 'T'

#define AGN_APP_RESULTS_MAGIC 0x524D4741u  // "AGMR"
#define AGN_APP_RESULTS_VERSION 2u
#define AGN_APP_RESULTS_HEADER 16u

// Record field offsets.
#define AGN_APP_REC_INDEX 0u          // u32 image index in the images file
#define AGN_APP_REC_LOCAL_CLASS 4u    // u8 argmax of the Local NN's int8 logits
#define AGN_APP_REC_FINAL_CLASS 5u    // u8 argmax of the mixed (or fallback) logits
#define AGN_APP_REC_OUTCOME 6u        // u8 agn_app_outcome
#define AGN_APP_REC_REPLY_STATUS 7u   // u8 the reply's status when one arrived
#define AGN_APP_REC_PAYLOAD 8u        // u32 encoded payload bytes (without the request header)
#define AGN_APP_REC_PAYLOAD_CRC 12u   // u32 CRC-32 of the payload
#define AGN_APP_REC_DGRAMS_UP 16u     // u16 request datagrams
#define AGN_APP_REC_DGRAMS_DOWN 18u   // u16 reply datagrams of this request received
#define AGN_APP_REC_BYTES_UP 20u      // u32 request datagram bytes (without IPv4/UDP headers)
#define AGN_APP_REC_BYTES_DOWN 24u    // u32 reply datagram bytes
#define AGN_APP_REC_SERVER_US 28u     // u32 server time the reply reported
#define AGN_APP_REC_INSTRUCTIONS 32u  // u64 run + encode + framing (SysTick under -icount: 40 per tick)
#define AGN_APP_REC_UP_NS 40u         // u64 uplink serialisation time of the request datagrams
#define AGN_APP_REC_DOWN_NS 48u       // u64 downlink serialisation time of the reply datagrams
#define AGN_APP_REC_LATENCY_NS 56u    // u64 compute + round trip, or compute + deadline on a fallback
#define AGN_APP_REC_FRAMING 64u       // u64 the framing's part of AGN_APP_REC_INSTRUCTIONS (request header,
                                      //     datagram headers, MACs and checksums)
#define AGN_APP_RECORD_FIXED 72u      // then int8 logits[classes]

typedef enum agn_app_outcome {
  AGN_APP_ANSWERED = 0,  // an authentic OK reply arrived by the deadline: the predictions are mixed
  AGN_APP_LATE = 1,      // the reply's modelled arrival is after the deadline: local prediction
  AGN_APP_NO_REPLY = 2,  // the bridge saw no reply: local prediction
  AGN_APP_REJECTED = 3,  // the server answered with an error status: local prediction
} agn_app_outcome;

#endif  // AGILENN_MCU_APP_LINK_H
