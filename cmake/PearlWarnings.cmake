# Warnings live on an INTERFACE target that our own targets link PRIVATE-ly, so
# consumers of the installed package never inherit them.
add_library(pearl_warnings INTERFACE)
target_compile_options(pearl_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Woverloaded-virtual)
option(PEARL_WERROR "Treat warnings as errors" OFF)
if(PEARL_WERROR)
  target_compile_options(pearl_warnings INTERFACE -Werror)
endif()
