# Compiler flags shared by every target of the project.
set(OSAP_C_WARNINGS
  -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wvla
  -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
  -Wimplicit-fallthrough)
if(OSAP_WERROR)
  list(APPEND OSAP_C_WARNINGS -Werror)
endif()
add_compile_options(${OSAP_C_WARNINGS})
add_compile_definitions(_GNU_SOURCE OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)

if(OSAP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
  add_compile_definitions(OSAP_SANITIZE=1)
endif()

if(OSAP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "OSAP_FUZZ needs clang (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(OSAP_FUZZING=1)
endif()
