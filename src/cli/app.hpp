// The command line: parses arguments and settings, builds the concrete types, runs a command.
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
#pragma once

namespace ikigai::cli {

int Main(int argc, char** argv);

}  // namespace ikigai::cli
