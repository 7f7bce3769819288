// API.md: secrets never appear in logs, errors or activity data. Checks run over everything every
// integration test's servers wrote, not only over one journey (activity_secrets_test.cpp, which
// knows each token of its run, is the exact check; these are the broad ones).
#pragma once

#include <string>
#include <string_view>

namespace ikigai::support {

class DirectDb;

// The JWT secret every test server is given (AccountServerEnv).
inline constexpr std::string_view kTestJwtSecret = "integration-tests-jwt-secret-0123456789-abcdef";

// Fails the current test for each secret found in a server's log: a test password
// (NewCredentials: "Correct-Horse-Battery-..."), a password hash (Argon2id; bcrypt of the original
// backend), the run's JWT secret, or a JWT (every one starts with "eyJ", the base64url of '{"').
void ExpectNoSecretsInLog(std::string_view who, const std::string& log);

// The same for the `data` of every activity event in the database (JWTs left out: `data` holds
// what each action records, and ids or names may hold any text).
void ExpectNoSecretsInActivity(std::string_view who, DirectDb& db);

}  // namespace ikigai::support
