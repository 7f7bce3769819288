# Writes a C++ file defining `std::string_view FUNCTION()` in namespace NAMESPACE returning INPUT's text.
file(READ ${INPUT} text)
set(body "// Generated from ${INPUT} by cmake/embed_text.cmake. Do not edit.\n#include <string_view>\n\n")
string(APPEND body "namespace ${NAMESPACE} {\n\nstd::string_view ${FUNCTION}() {\n")
string(APPEND body "  static constexpr std::string_view kText = R\"ikigaitext(${text})ikigaitext\";\n")
string(APPEND body "  return kText;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUTPUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
