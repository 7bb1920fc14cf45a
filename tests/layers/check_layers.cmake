# Fails when a source file of core includes a header of a higher layer (or of a folder that is
# no layer, or by a relative "../" path), a folder or source file of core is in no layer, or
# core includes a Qt header. Run by ctest:
#   cmake -DROOT=<core folder> -DLAYERS="common;image;..." -P check_layers.cmake
# LAYERS comes from core/CMakeLists.txt (LATENTLAB_CORE_LAYERS), lowest first: a file may
# include headers of its own layer and of the layers before it, never of those after it.
cmake_minimum_required(VERSION 3.25)
if(NOT ROOT OR NOT LAYERS)
  message(FATAL_ERROR "check_layers: pass -DROOT=<folder> and -DLAYERS=<list>")
endif()

get_filename_component(ROOT "${ROOT}" ABSOLUTE)
set(problems "")
file(GLOB folders LIST_DIRECTORIES true RELATIVE ${ROOT} ${ROOT}/*)
foreach(folder IN LISTS folders)
  if(IS_DIRECTORY ${ROOT}/${folder} AND NOT folder IN_LIST LAYERS)
    list(APPEND problems "${folder}/ is in no layer: add it to LATENTLAB_CORE_LAYERS")
  endif()
endforeach()

# Sources belong in a layer's folder, not beside them.
file(GLOB loose RELATIVE ${ROOT} ${ROOT}/*.h ${ROOT}/*.cpp)
foreach(source IN LISTS loose)
  list(APPEND problems "${source} lies in no layer: move it into one of ${LAYERS}")
endforeach()

set(checked 0)
foreach(layer IN LISTS LAYERS)
  list(FIND LAYERS ${layer} rank)
  file(GLOB_RECURSE sources RELATIVE ${ROOT} ${ROOT}/${layer}/*.h ${ROOT}/${layer}/*.cpp)
  foreach(source IN LISTS sources)
    math(EXPR checked "${checked} + 1")
    file(STRINGS ${ROOT}/${source} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line IN LISTS includes)
      if(line MATCHES "#[ \t]*include[ \t]*\"\\.\\.")
        list(APPEND problems "${source} includes by a relative path (${line}): name the folder")
      elseif(line MATCHES "#[ \t]*include[ \t]*<(Q[A-Za-z]*)[/>]")
        list(APPEND problems "${source} includes Qt (<${CMAKE_MATCH_1}...>): core has no Qt")
      elseif(line MATCHES "#[ \t]*include[ \t]*\"([a-z_0-9]+)/([^\"]+)\"")
        set(target ${CMAKE_MATCH_1})
        list(FIND LAYERS ${target} targetRank)
        if(targetRank EQUAL -1)
          list(APPEND problems "${source} includes ${target}/${CMAKE_MATCH_2}: no layer of core")
        elseif(targetRank GREATER rank)
          list(APPEND problems
               "${source} includes ${target}/${CMAKE_MATCH_2}: ${layer} lies below ${target}")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "check_layers: the layers of core (${LAYERS}) are broken:\n  ${text}")
endif()
message(STATUS "check_layers: ${checked} files of core follow the layers ${LAYERS}")
