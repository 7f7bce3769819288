// Lowering the scheduling priority of the calling thread (Linux: a thread's own nice value), so
// background work (password hashing, push delivery) yields the cores to requests under load and
// still gets them when they are idle.
#pragma once

namespace ikigai::core {

// Sets the calling thread's nice value to `nice` (1..19); false when the system refuses.
[[nodiscard]] bool LowerThreadPriority(int nice);

}  // namespace ikigai::core
