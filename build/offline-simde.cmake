# Loaded by every CMake run of the build through CMAKE_TOOLCHAIN_FILE (see .cargo/config.toml).
# v8x builds WAMR, whose SIMD support fetches the header-only library simde from GitHub at configure
# time. Point that fetch at Debian's libsimde-dev headers so a clean checkout builds offline.
if(EXISTS "/usr/include/simde/simde-common.h")
  set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "offline simde headers (libsimde-dev)")
endif()
