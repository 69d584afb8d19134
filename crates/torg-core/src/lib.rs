//! Torg's use cases, between the channels (web, API, and later email, SMS, social media)
//! and the store. Nothing here knows HTTP.

pub mod acknowledge;
pub mod actor;
pub mod archive;
pub mod areas;
pub mod audit;
pub mod casework;
pub mod connectors;
pub mod crisis;
pub mod delivery;
pub mod directory;
pub mod escalation;
pub mod evaluation;
pub mod intake;
pub mod jobs;
pub mod listening;
pub mod mail;
pub mod merge;
pub mod phone;
pub mod policies;
pub mod press;
pub mod publish;
pub mod registry;
pub mod reply;
pub mod sealing;
pub mod search;
pub mod secrets;
pub mod sms;
pub mod social;
pub mod subscribe;
pub mod tokens;
pub mod transcript;
pub mod webhooks;
pub mod wheel;
