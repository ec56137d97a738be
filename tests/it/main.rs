//! Integration tests, linked into one binary (one link instead of one per file keeps builds fast and small).
//! The database backend is SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod common;

mod accounts_cli;
mod accounts_data;
mod accounts_hashing;
mod accounts_login;
mod accounts_register;
mod accounts_reset;
mod accounts_settings;
mod accounts_throttle;
mod admin;
mod admin_quotas;
mod admin_users;
mod api_accounts;
mod api_auth;
mod api_chat;
mod api_contract;
mod backup;
mod chat_flow;
mod chat_persistence;
mod chat_provider;
mod chat_steps;
mod chat_tools;
mod cli;
mod csrf_tokens;
mod database;
mod files;
mod from_outside;
mod http;
mod i18n;
mod imports;
mod mail;
mod metrics;
mod openai;
mod openai_sdks;
mod races;
mod sessions;
mod shares;
mod temporary;
mod tools_guard;
mod tools_mcp;
mod tools_web;
mod upgrades;
