# Installation layout (cmake --install) and the Debian package (CPack, scripts/package).
# The version comes from project() alone: the binary's --version, the man page and the package.
include(GNUInstallDirs)

install(TARGETS pgparity RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man page, generated from the CLI's own --help (cmake/manpage.sh, Debian's help2man).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/pgparity.1.gz
                     COMMAND ${PROJECT_SOURCE_DIR}/cmake/manpage.sh $<TARGET_FILE:pgparity>
                             ${CMAKE_BINARY_DIR}/pgparity.1.gz
                     DEPENDS pgparity ${PROJECT_SOURCE_DIR}/cmake/manpage.sh
                     COMMENT "man page from pgparity --help")
  add_custom_target(pgparity_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/pgparity.1.gz)
  install(FILES ${CMAKE_BINARY_DIR}/pgparity.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# systemd units, the JSON Schema, the docs, examples and integrations.
install(FILES examples/integrations/systemd/pgparity-reconcile.service
              examples/integrations/systemd/pgparity-reconcile.timer
        DESTINATION lib/systemd/system)
install(FILES desired/manifest.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/pgparity)
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES README.md packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian policy: a compressed changelog in the package's doc folder.
configure_file(packaging/changelog.in ${CMAKE_BINARY_DIR}/changelog @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/changelog.gz
                   COMMAND gzip -9n -c ${CMAKE_BINARY_DIR}/changelog > ${CMAKE_BINARY_DIR}/changelog.gz
                   DEPENDS ${CMAKE_BINARY_DIR}/changelog)
add_custom_target(pgparity_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pgparity)
set(CPACK_PACKAGE_VENDOR "pgparity")
set(CPACK_PACKAGE_CONTACT "pgparity maintainers <pgparity@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keep PostgreSQL extension topology true to a manifest in git")
set(CPACK_PACKAGE_DESCRIPTION
    "pgparity is a declarative reconciler for PostgreSQL extension topology.\nA manifest in git declares extension versions, preload libraries, settings\nand setting ratios; pgparity observes the live catalogs, plans the exact SQL\nand applies it safely: once, on a schedule, or never (plan-only).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # pgparity_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # library dependencies from dpkg-shlibdeps, never a hand-written list
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "git")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/pgparity")
set(CPACK_STRIP_FILES ON)
include(CPack)
