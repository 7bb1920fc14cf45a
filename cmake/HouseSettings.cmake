# One INTERFACE target carries the settings every LatentLab target builds with.
add_library(latentlab_settings INTERFACE)
target_compile_features(latentlab_settings INTERFACE cxx_std_20)
# Designated initialisers that leave fields at their defaults are the house style.
target_compile_options(latentlab_settings INTERFACE -Wall -Wextra -Wno-unused-parameter
                                                     -Wno-missing-field-initializers)
# LibTorch's headers use `slots` as an identifier; string literals never turn into QString
# by accident.
target_compile_definitions(latentlab_settings INTERFACE QT_NO_KEYWORDS QT_NO_CAST_FROM_ASCII
                                                        QT_NO_CAST_TO_ASCII)

# scripts/test.sh --sanitize builds into build-sanitize/ with AddressSanitizer and
# UndefinedBehaviorSanitizer on everything LatentLab compiles (LibTorch, Qt and OpenCV are
# Debian's, uninstrumented). -fno-sanitize=vptr: the dynamic-type check compares typeinfo
# that LibTorch's and Qt's shared libraries do not all export, so it reports their sound casts.
option(LATENTLAB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(LATENTLAB_SANITIZE)
  target_compile_options(latentlab_settings INTERFACE -fsanitize=address,undefined
                                                      -fno-sanitize=vptr -fno-omit-frame-pointer)
  target_link_options(latentlab_settings INTERFACE -fsanitize=address,undefined)
endif()

# scripts/test.sh --tsan builds the trainer's tests into build-tsan/ with ThreadSanitizer. Only
# with one thread per pool: LibTorch's OpenMP (libgomp) is not instrumented, so TSan cannot see
# its fork and join and would report every parallel kernel's writes as races.
option(LATENTLAB_SANITIZE_THREAD "Build with ThreadSanitizer" OFF)
if(LATENTLAB_SANITIZE_THREAD)
  if(LATENTLAB_SANITIZE)
    message(FATAL_ERROR "ThreadSanitizer and AddressSanitizer do not build together")
  endif()
  target_compile_options(latentlab_settings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(latentlab_settings INTERFACE -fsanitize=thread)
endif()
