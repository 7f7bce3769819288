// The ikigai binary: `ikigai serve|migrate|version`.
#include "cli/app.hpp"

int main(int argc, char** argv) { return ikigai::cli::Main(argc, argv); }
