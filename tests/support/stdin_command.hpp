// Runs `ikigai ARGS...` with given text on standard input (Process always gives /dev/null).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace ikigai::support {

// As RunIkigai (inherited IKIGAI_* variables dropped, `env` added), but the command reads
// `stdin_text` on its standard input. The text goes through a private temporary file and
// `/bin/sh -c 'exec BINARY ARGS < FILE'`, so the child is the ikigai process itself (exec keeps
// PR_SET_PDEATHSIG) and no argument is ever re-parsed by the shell.
[[nodiscard]] CommandResult RunIkigaiWithStdin(
    std::vector<std::string> args, std::string stdin_text,
    std::map<std::string, std::string> env = {},
    std::chrono::milliseconds timeout = std::chrono::seconds{60});

}  // namespace ikigai::support
