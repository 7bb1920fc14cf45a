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
