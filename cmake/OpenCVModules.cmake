# Debian splits OpenCV into per-module -dev packages; only the umbrella libopencv-dev (which
# drags in every module) ships OpenCVConfig.cmake. Find the four modules we use directly.
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(latentlab_opencv INTERFACE)
target_include_directories(latentlab_opencv SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})
foreach(module core imgproc imgcodecs videoio)
  find_library(OPENCV_${module}_LIBRARY opencv_${module} REQUIRED)
  target_link_libraries(latentlab_opencv INTERFACE ${OPENCV_${module}_LIBRARY})
endforeach()
