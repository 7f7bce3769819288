// JSON body decoding: syntax, depth, shape and unknown fields.
#include "http/json_body.hpp"

#include <gtest/gtest.h>

namespace ikigai::http {
namespace {

std::string Nested(int depth) { return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}"; }

TEST(JsonBodyTest, EmptyBodyIsEmptyObject) {
  auto v = ParseJsonObject("  ");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->is_object());
  EXPECT_TRUE(v->empty());
}

TEST(JsonBodyTest, MalformedIs400) {
  auto v = ParseJsonObject("{\"username\":");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, core::ErrorCode::kMalformedJson);
}

TEST(JsonBodyTest, DepthLimitIsEnforced) {
  EXPECT_TRUE(ParseJsonObject(Nested(31)));
  auto deep = ParseJsonObject(Nested(1000));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, core::ErrorCode::kMalformedJson);
}

TEST(JsonBodyTest, NonObjectIs422OnBody) {
  for (const char* body : {"[]", "42", "\"text\"", "null"}) {
    auto v = ParseJsonObject(body);
    ASSERT_FALSE(v) << body;
    EXPECT_EQ(v.error().code, core::ErrorCode::kValidation);
    EXPECT_EQ(v.error().fields.count("body"), 1u);
  }
}

TEST(JsonBodyTest, InvalidUtf8IsMalformed) {
  auto v = ParseJsonObject("{\"a\":\"\xff\"}");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, core::ErrorCode::kMalformedJson);
}

void ExpectMalformed(const std::string& body) {
  auto v = ParseJsonObject(body);
  ASSERT_FALSE(v) << body;
  EXPECT_EQ(v.error().code, core::ErrorCode::kMalformedJson) << body;
}

TEST(JsonBodyTest, BytesAfterTheValueAreMalformed) {
  ExpectMalformed("{} x");
  ExpectMalformed("{\"a\":1}}");
  ExpectMalformed("{\"a\":1} {\"b\":2}");
  ExpectMalformed("{\"a\":1}\n\t  garbage");
  ExpectMalformed(std::string("{\"a\":1}\0", 8));
  ExpectMalformed(std::string("{\"a\":1}\0junk", 12));
  ExpectMalformed(std::string("{\"a\":1} \0 ", 10));
  ExpectMalformed(std::string("\0{\"a\":1}", 8));
}

TEST(JsonBodyTest, TrailingWhiteSpaceIsFine) {
  for (const char* body : {"{\"a\":1}  ", "{\"a\":1}\r\n", "\n {\"a\":1}\n\t"}) {
    auto v = ParseJsonObject(body);
    ASSERT_TRUE(v) << body;
    EXPECT_EQ((*v)["a"], 1);
  }
}

TEST(JsonBodyTest, AKeyTwiceInAnyObjectIsMalformed) {
  ExpectMalformed(R"({"title":"a","title":"b"})");
  ExpectMalformed(R"({"title":"a","notes":"","title":"a"})");
  ExpectMalformed(R"({"a":{"x":1,"x":2}})");
  ExpectMalformed(R"({"a":[1,{"k":[{"y":1,"y":1}]}]})");
  ExpectMalformed(R"({"a":1,"\u0061":2})");  // the same key, escaped
}

TEST(JsonBodyTest, TheSameKeyInDifferentObjectsIsFine) {
  auto v = ParseJsonObject(R"({"a":{"a":1},"b":[{"a":1},{"a":2}],"c":{"b":{"a":3}}})");
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)["c"]["b"]["a"], 3);
  EXPECT_TRUE(ParseJsonObject(R"({"A":1,"a":2})"));  // keys are case-sensitive
}

TEST(JsonBodyTest, AnEscapedNulInAStringIsFine) {
  auto v = ParseJsonObject(R"({"notes":"a\u0000b"})");
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)["notes"].get<std::string>(), std::string("a\0b", 3));
}

TEST(FieldReaderTest, UnknownFieldsAreRefused) {
  auto v = ParseJsonObject(R"({"username":"alice","role":"admin"})");
  ASSERT_TRUE(v);
  FieldReader r(*v);
  EXPECT_EQ(r.String("username"), "alice");
  auto done = r.Finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, core::ErrorCode::kValidation);
  EXPECT_EQ(done.error().fields.at("role").message, "is not allowed");
  EXPECT_EQ(done.error().fields.at("role").code, core::FieldCode::kUnknownField);
}

TEST(FieldReaderTest, TypeAndPresenceErrorsAccumulate) {
  auto v = ParseJsonObject(R"({"title":5,"done":"yes"})");
  ASSERT_TRUE(v);
  FieldReader r(*v);
  EXPECT_FALSE(r.String("title", true));
  EXPECT_FALSE(r.Boolean("done"));
  EXPECT_FALSE(r.String("notes", true));
  auto done = r.Finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().fields.at("title").message, "must be a string");
  EXPECT_EQ(done.error().fields.at("done").message, "must be true or false");
  EXPECT_EQ(done.error().fields.at("notes").message, "is required");
  EXPECT_EQ(done.error().fields.at("title").code, core::FieldCode::kInvalidType);
  EXPECT_EQ(done.error().fields.at("done").code, core::FieldCode::kInvalidType);
  EXPECT_EQ(done.error().fields.at("notes").code, core::FieldCode::kRequired);
}

TEST(FieldReaderTest, AllReadMeansSuccess) {
  auto v = ParseJsonObject(R"({"n":3,"due_at":null})");
  ASSERT_TRUE(v);
  FieldReader r(*v);
  EXPECT_EQ(r.Integer("n"), 3);
  EXPECT_TRUE(r.IsNull("due_at"));
  EXPECT_TRUE(r.Finish());
}

TEST(FieldReaderTest, RefusedMembersCarryTheirOwnMessage) {
  auto v = ParseJsonObject(R"({"display_name":"x","role":"admin","id":"1"})");
  ASSERT_TRUE(v);
  FieldReader r(*v);
  EXPECT_EQ(r.String("display_name"), "x");
  r.Refuse({"role", "id", "created_at"}, "is set by the server");
  auto done = r.Finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().fields.size(), 2u);  // absent members are not errors
  EXPECT_EQ(done.error().fields.at("role").message, "is set by the server");
  EXPECT_EQ(done.error().fields.at("id").message, "is set by the server");
  EXPECT_EQ(done.error().fields.at("id").code, core::FieldCode::kReadOnly);
}

}  // namespace
}  // namespace ikigai::http
