#include "core/thread_priority.hpp"

#include <sys/resource.h>
#include <unistd.h>

namespace ikigai::core {

bool LowerThreadPriority(int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) == 0;
}

}  // namespace ikigai::core
