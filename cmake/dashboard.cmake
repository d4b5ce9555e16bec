# The teacher's dashboard as the library mcshare links: src/dashboard.c and
# its page, src/dashboard.html (edited as HTML), turned into a C array by
# cmake/embed.cmake. One rule for the Linux build (CMakeLists.txt) and the
# Windows one (cmake/windows.cmake); extra arguments are libraries it also
# needs there.
function(mc_dashboard_library)
  set(html ${PROJECT_SOURCE_DIR}/src/dashboard.html)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/dashboard_html.c)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${html} -DOUT=${out} -DNAME=mc_dashboard_html
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${html} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake)
  add_library(mcshare_dashboard STATIC ${PROJECT_SOURCE_DIR}/src/dashboard.c ${out})
  target_link_libraries(mcshare_dashboard PUBLIC mcshare_core
    PRIVATE PkgConfig::MHD PkgConfig::SODIUM ${ARGN})
endfunction()
