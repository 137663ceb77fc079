#include "state/connection.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace pgparity::state {
namespace {

TEST(MaskDsn, HidesThePasswordOfAConninfoString) {
  const std::string masked = mask_dsn("host=db.example port=5432 user=app password=s3cret dbname=orders");
  EXPECT_EQ(masked.find("s3cret"), std::string::npos);
  EXPECT_NE(masked.find("password=********"), std::string::npos);
  EXPECT_NE(masked.find("host='db.example'"), std::string::npos);
}

TEST(MaskDsn, HidesThePasswordOfAUri) {
  const std::string masked = mask_dsn("postgresql://app:s3cret@db.example:5432/orders?sslmode=require");
  EXPECT_EQ(masked.find("s3cret"), std::string::npos);
  EXPECT_NE(masked.find("user='app'"), std::string::npos);
  EXPECT_NE(masked.find("dbname='orders'"), std::string::npos);
}

TEST(MaskDsn, SaysSoWhenLibpqCannotParseIt) {
  EXPECT_EQ(mask_dsn("host='unterminated password=s3cret"), "<unparsable dsn>");
}

TEST(SessionConninfo, AddsAConnectTimeoutAndKeepalivesUnlessTheDsnSetsThem) {
  const std::string plain = session_conninfo("host=db.example", Access::read_write, "pgparity", std::nullopt);
  EXPECT_NE(plain.find("connect_timeout=10 "), std::string::npos) << plain;
  EXPECT_NE(plain.find("keepalives=1 "), std::string::npos) << plain;
  EXPECT_NE(plain.find("keepalives_idle=30 "), std::string::npos) << plain;
  const std::string own = session_conninfo("host=db.example connect_timeout=3 keepalives_idle=5", Access::read_write,
                                           "pgparity", std::nullopt);
  EXPECT_NE(own.find("connect_timeout='3'"), std::string::npos) << own;
  EXPECT_EQ(own.find("connect_timeout=10"), std::string::npos) << "the DSN's own timeout wins\n" << own;
  EXPECT_EQ(own.find("keepalives_idle=30"), std::string::npos) << own;
}

TEST(SessionConninfo, AlwaysSpeaksUtf8WhateverTheDsnSays) {
  const std::string conninfo =
      state::session_conninfo("host=h dbname=d client_encoding=SJIS", state::Access::read_write, "pgparity", {});
  EXPECT_NE(conninfo.find("client_encoding=UTF8"), std::string::npos) << conninfo;
  EXPECT_EQ(conninfo.find("SJIS"), std::string::npos) << conninfo;
}

TEST(SessionConninfo, AddsReadOnlyToTheDsnsOptions) {
  const std::string conninfo =
      session_conninfo("host=a,b options='-c work_mem=3MB'", Access::read_only, "pgparity", std::string("orders"));
  EXPECT_NE(conninfo.find("-c work_mem=3MB -c default_transaction_read_only=on"), std::string::npos) << conninfo;
  EXPECT_NE(conninfo.find("dbname='orders'"), std::string::npos) << conninfo;
}

TEST(SessionConninfo, AReadOnlySessionAsksForThePrimaryWhereTheDsnAsksForAWritableHost) {
  const std::string dsn = "host=a,b target_session_attrs=read-write options='-c work_mem=3MB'";
  const std::string conninfo = session_conninfo(dsn, Access::read_only, "pgparity", std::nullopt);
  EXPECT_NE(conninfo.find("target_session_attrs=primary"), std::string::npos) << conninfo;
  EXPECT_EQ(conninfo.find("read-write"), std::string::npos) << "every host would say it is read-only, the primary too\n"
                                                            << conninfo;
  EXPECT_NE(conninfo.find("-c default_transaction_read_only=on"), std::string::npos)
      << "read-only from the first packet, never by a SET a pooler would keep\n"
      << conninfo;
  const std::string managed = session_conninfo(dsn, Access::read_write, "pgparity", std::nullopt);
  EXPECT_NE(managed.find("target_session_attrs='read-write'"), std::string::npos) << managed;
}

TEST(Connect, RejectsAnUnparsableDsnAsInputWithoutConnecting) {
  EXPECT_THROW(connect("host='unterminated", Access::read_only), InputError);
}

TEST(Connect, ReportsAnUnreachableServerWithoutThePassword) {
  try {
    connect("host=127.0.0.1 port=1 user=x password=s3cret connect_timeout=2", Access::read_write);
    FAIL() << "connected to port 1";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos);
    EXPECT_EQ(e.detail().find("s3cret"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("password=********"), std::string::npos);
  }
}

}  // namespace
}  // namespace pgparity::state
