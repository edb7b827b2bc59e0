//! The harness for cross-process tests: how tests reach the real servers that the test
//! script (`scripts/test.sh`) starts, and (as the system grows) builders that start the
//! project's own processes.
//!
//! **What it is not:** a mock of anything. Tests that need SQS, DynamoDB, S3 or Redis
//! talk to moto's server and redis-server through the environment the script exports;
//! when those variables are missing a test fails with a message saying how to run it.
