# Every external dependency comes from Debian's packages through pkg-config.
# A missing one stops configure and names the package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install -y pkgconf")
endif()

function(hvsim_require target module debpkg)
  pkg_check_modules(${target} IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR
      "${module} not found by pkg-config: apt-get install -y ${debpkg}")
  endif()
endfunction()

hvsim_require(SQLITE3 sqlite3 libsqlite3-dev)
hvsim_require(YAML yaml-0.1 libyaml-dev)
hvsim_require(ZLIB zlib zlib1g-dev)
hvsim_require(CHECK check check)
