//! The help lines of a crisis resources card (`crisis_resources`, `GET
//! /api/resources`): the card's default lines, and each country's emergency number and
//! lines, and the kind of crisis a card answers.

use serde::{Deserialize, Serialize};

/// The help lines of one country on a crisis resources card: its emergency number
/// and the lines that serve it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryLines {
    /// ISO 3166-1 alpha-2, upper case, e.g. "GB".
    pub code: String,
    /// What a person picks, e.g. "United Kingdom".
    pub name: String,
    /// The number that reaches emergency services there, e.g. "999".
    pub emergency: String,
    pub lines: Vec<HelpLine>,
}

/// A help line on a crisis resources card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpLine {
    /// Where it serves, e.g. "US & Canada".
    pub region: String,
    pub name: String,
    /// How to reach it, e.g. "Call or text 988".
    pub contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The kind of crisis language a message contained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisCategory {
    SuicidalIdeation,
    SelfHarm,
    Overdose,
    ImmediateDanger,
    AbuseDisclosure,
}
