# Compiler settings shared by every target: warnings, sanitizers, ccache.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

add_library(pgparity_warnings INTERFACE)
target_compile_options(pgparity_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(PGPARITY_WERROR)
  target_compile_options(pgparity_warnings INTERFACE -Werror)
endif()

if(PGPARITY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PGPARITY_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# pgparity_library(NAME folder SOURCES ... ) — one library per folder.
function(pgparity_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE pgparity_warnings)
endfunction()
