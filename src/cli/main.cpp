// The ikigai binary: `ikigai serve|migrate|version|user|import-legacy-users`.
#include <malloc.h>

#include "cli/app.hpp"

int main(int argc, char** argv) {
  // A dozen threads would otherwise get a malloc arena each, and each keeps what it once held;
  // a few shared arenas keep the resident size small at no measurable cost in throughput.
  mallopt(M_ARENA_MAX, 4);
  return ikigai::cli::Main(argc, argv);
}
