# `npm ci` in DIR (tools/openapi) when its node_modules was not installed from the current
# package-lock.json: the ctest fixture openapi.npm_ci runs this before the conformance tests.
# Usage: cmake -DNPM=<npm> -DDIR=<dir> -P cmake/npm_ci.cmake
set(stamp ${DIR}/node_modules/.ikigai-installed-lock.json)
if(EXISTS ${stamp})
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/package-lock.json ${stamp}
    RESULT_VARIABLE differs)
  if(differs EQUAL 0)
    message(STATUS "${DIR}/node_modules is installed from the current package-lock.json")
    return()
  endif()
endif()
execute_process(COMMAND ${NPM} ci --no-audit --no-fund WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci in ${DIR} failed (${rc}): the npm registry must be reachable once")
endif()
file(COPY_FILE ${DIR}/package-lock.json ${stamp})
