// Runs `ikigai ARGS...` with given text on standard input (Process always gives /dev/null).
#include "support/stdin_command.hpp"

#include <fstream>
#include <stdexcept>
#include <utility>

#include "support/temp_dir.hpp"

namespace ikigai::support {

CommandResult RunIkigaiWithStdin(std::vector<std::string> args, std::string stdin_text,
                                 std::map<std::string, std::string> env,
                                 std::chrono::milliseconds timeout) {
  TempDir dir("ikigai-stdin-");
  const std::string input = dir.File("stdin");
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << stdin_text;
    if (!out.flush()) throw std::runtime_error("cannot write " + input);
  }
  ProcessOptions options;
  options.binary = "/bin/sh";
  // $1 is the input file, the rest is the command line; the arguments stay positional parameters,
  // so nothing in them is interpreted by the shell.
  options.args = {"-c", "f=\"$1\"; shift; exec \"$@\" < \"$f\"", "sh", input, IKIGAI_BINARY};
  options.args.insert(options.args.end(), std::make_move_iterator(args.begin()),
                      std::make_move_iterator(args.end()));
  options.env = std::move(env);
  options.unset_env_prefixes = {"IKIGAI_"};
  options.output_dir = dir.Path();
  options.name = "ikigai";
  return RunCommand(std::move(options), timeout);
}

}  // namespace ikigai::support
