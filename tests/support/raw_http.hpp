// Bytes on a plain TCP connection to the server under test, for requests no HTTP client will
// send as they are (raw non-ASCII bytes in the request target, broken framing).
#pragma once

#include <chrono>
#include <string>

namespace ikigai::support {

class Server;

// Connects to the server's loopback port, sends `bytes` as they are, and returns everything read
// until the server closes the connection or `timeout` passes (then what arrived so far). The
// request should say "Connection: close" if the answer is wanted without waiting for the
// timeout. Throws std::runtime_error when the connection cannot be made.
[[nodiscard]] std::string RawExchange(const Server& server, std::string bytes,
                                      std::chrono::milliseconds timeout);

}  // namespace ikigai::support
