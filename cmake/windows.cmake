# The Windows build (cross-built by tools/build-windows with
# cmake/mingw-w64.cmake): the library without the X11, Wayland and portal
# capture and the dashboard, on the Win32 platform layer, linked statically
# against the libraries tools/build-windows built.
find_package(PkgConfig REQUIRED)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
pkg_check_modules(ENET REQUIRED IMPORTED_TARGET libenet)
pkg_check_modules(SDLCORE REQUIRED IMPORTED_TARGET sdl2)
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

add_compile_definitions(_WIN32_WINNT=0x0602 WIN32_LEAN_AND_MEAN SODIUM_STATIC)
# Hardened as the Linux packages are (mingw's libssp holds the checks;
# opus's own build turns _FORTIFY_SOURCE on as well).
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  add_compile_options(-fstack-protector-strong -D_FORTIFY_SOURCE=2)
endif()
add_library(mcshare_core STATIC
  src/platform_win32.c src/common.c src/wire.c src/tiles.c src/motion.c src/codec.c src/codec_jpeg.c src/codec_lossless.c
  src/testsrc.c src/net.c src/sender.c src/sender_plan.c
  src/receiver.c src/receiver_report.c src/receiver_av.c src/receiver_rx.c src/receiver_move.c
  src/capture.c src/capture_win.c src/capture_gdi.c src/capture_dxgi.c src/capture_test.c src/scale.c src/verify.c src/cli.c src/status.c src/fec.c src/fecrx.c src/ctrl.c src/ctrl_server.c src/ctrl_client.c
  src/audio_tx.c src/audio_wasapi.c src/audio_rx.c src/pcm.c src/auth.c src/trust.c src/files.c src/listen.c src/wav.c src/discovery.c src/config.c src/relay.c)
target_include_directories(mcshare_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(mcshare_core PRIVATE PkgConfig::TURBOJPEG PkgConfig::ISAL PkgConfig::ENET
  PkgConfig::OPUS PkgConfig::SDLCORE PkgConfig::SODIUM PkgConfig::ZSTD
  PUBLIC ws2_32 iphlpapi bcrypt d3d11 dxgi dxguid gdi32 user32 ole32 ssp)
# Programs with no DLLs beside them but Windows' own; ASLR (64-bit) and DEP.
add_link_options(-static -static-libgcc -Wl,--dynamicbase,--nxcompat,--high-entropy-va)

add_executable(mcprobe tools/mcprobe.c tools/plot.c)
target_link_libraries(mcprobe PRIVATE mcshare_core)

# mcrelay: a Windows PC in another building or at the school's edge can
# carry the broadcast to viewers multicast does not reach.
add_executable(mcrelay tools/mcrelay.c)
target_link_libraries(mcrelay PRIVATE mcshare_core)

# mcshare: the screen through GDI; the dashboard with libmicrohttpd.
pkg_check_modules(MHD IMPORTED_TARGET libmicrohttpd)
if(MHD_FOUND)
  include(${CMAKE_CURRENT_LIST_DIR}/dashboard.cmake)
  mc_dashboard_library(ws2_32)
  add_executable(mcshare tools/mcshare.c tools/mcshare_dash.c)
  target_link_libraries(mcshare PRIVATE mcshare_core mcshare_dashboard PkgConfig::MHD ws2_32)
endif()

# The codec and pipeline benchmark, for the figures beside Linux's.
add_executable(mcbench tools/mcbench.c)
target_link_libraries(mcbench PRIVATE mcshare_core PkgConfig::TURBOJPEG PkgConfig::OPUS)

# mcview: SDL2's window; its text with SDL2_ttf (FreeType). A window
# program (no console of its own), whose messages still reach a console it
# was started from.
pkg_check_modules(SDL2TTF IMPORTED_TARGET SDL2_ttf)
if(SDL2TTF_FOUND)
  add_executable(mcview tools/mcview.c tools/picker.c)
  target_link_libraries(mcview PRIVATE mcshare_core PkgConfig::SDL2TTF PkgConfig::SDLCORE)
endif()

# The unit tests that need no X server, as .exe (run under wine by
# tools/cross-check).
if(MC_TESTS)
  foreach(t wire tiles codec fec ctrl pipeline receiver discovery platform pcm)
    add_executable(test_${t} tests/test_${t}.c)
    target_link_libraries(test_${t} PRIVATE mcshare_core)
  endforeach()
endif()
