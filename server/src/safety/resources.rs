//! The crisis resources card: what the author of a crisis message privately receives.
//!
//! The operator configures it per deployment or locale (loaded from JSON); the default
//! covers the US and Canada, the UK and Ireland, Australia, and everywhere else through
//! findahelpline.com. The wording follows safe-messaging practice: warm, non-judgmental,
//! about help being available, never about methods, and honest that the facilitators know.

use kindred_protocol::HelpLine;
use serde::{Deserialize, Serialize};

/// A card of help lines with a short, kind message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResourcesCard {
    pub title: String,
    pub body: String,
    #[serde(deserialize_with = "operator_lines")]
    pub lines: Vec<HelpLine>,
}

/// A help line as an operator writes it: the wire's [`HelpLine`], with unknown fields
/// refused (a misspelt `url` would otherwise be dropped without a word).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorLine {
    region: String,
    name: String,
    contact: String,
    #[serde(default)]
    url: Option<String>,
}

fn operator_lines<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<HelpLine>, D::Error> {
    let lines = Vec::<OperatorLine>::deserialize(d)?;
    Ok(lines
        .into_iter()
        .map(|l| HelpLine {
            region: l.region,
            name: l.name,
            contact: l.contact,
            url: l.url,
        })
        .collect())
}

/// The link schemes a card may use. The web client puts `url` in an `href`, so anything
/// else (`javascript:`, `data:`) would run or show whatever the file says.
const LINK_SCHEMES: [&str; 3] = ["https", "tel", "sms"];

/// Whether `url` is a link a member may safely be handed: `https://host…`, `tel:…` or
/// `sms:…`, with no spaces or control characters.
fn safe_link(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    let known = LINK_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme));
    let addressed = if scheme.eq_ignore_ascii_case("https") {
        rest.strip_prefix("//")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
    } else {
        !rest.is_empty()
    };
    clean && known && addressed
}

impl ResourcesCard {
    /// Reads an operator's card. Unknown fields (on the card or a line) are refused so
    /// that a typo is noticed at start-up rather than silently shipping the default, and
    /// so is a card without a help line or with an empty one (a person in crisis would be
    /// given nothing to call), and a link other than `https:`, `tel:` or `sms:`.
    pub fn from_json(json: &str) -> Result<Self, CardError> {
        let card: Self = serde_json::from_str(json)?;
        if card.lines.is_empty() {
            return Err(CardError::NoLines);
        }
        if let Some(i) = card
            .lines
            .iter()
            .position(|l| l.name.trim().is_empty() || l.contact.trim().is_empty())
        {
            return Err(CardError::EmptyLine(i + 1));
        }
        if let Some(i) = card
            .lines
            .iter()
            .position(|l| l.url.as_deref().is_some_and(|u| !safe_link(u)))
        {
            return Err(CardError::BadLink(i + 1));
        }
        Ok(card)
    }
}

/// Why an operator's card was refused.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the card has no help lines: give at least one in `lines`, so a person in crisis has somewhere to turn"
    )]
    NoLines,
    #[error("help line {0} has no `name` or no `contact`")]
    EmptyLine(usize),
    #[error(
        "help line {0} has a `url` that is not an https://, tel: or sms: link (e.g. https://988lifeline.org, tel:988, sms:741741)"
    )]
    BadLink(usize),
}

fn line(region: &str, name: &str, contact: &str, url: &str) -> HelpLine {
    HelpLine {
        region: region.to_owned(),
        name: name.to_owned(),
        contact: contact.to_owned(),
        url: Some(url.to_owned()),
    }
}

impl Default for ResourcesCard {
    fn default() -> Self {
        Self {
            title: "You don't have to carry this alone".to_owned(),
            // Whether the message was shared and who was told differs from one card
            // to the next (`seq` and `told` on the frame say which), and the same card
            // is what "Need help now" opens when nobody has written anything: so the
            // body says none of it, nor thanks anyone for words; clients add what is
            // true for this message. It comes after the lines on the card.
            body: "If things feel like too much right now, please reach out to someone \
                   who can talk with you: the lines above are free, confidential, and \
                   there for you at any hour. If you are in immediate danger, please call \
                   your local emergency number."
                .to_owned(),
            lines: vec![
                line(
                    "US & Canada",
                    "988 Suicide & Crisis Lifeline",
                    "Call or text 988",
                    "https://988lifeline.org",
                ),
                line(
                    "UK & Ireland",
                    "Samaritans",
                    "Call 116 123 (free, any time)",
                    "https://www.samaritans.org",
                ),
                line(
                    "Australia",
                    "Lifeline",
                    "Call 13 11 14",
                    "https://www.lifeline.org.au",
                ),
                line(
                    "Elsewhere",
                    "Find A Helpline",
                    "Free, confidential support in your country",
                    "https://findahelpline.com",
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_card_lists_the_four_regions() {
        let card = ResourcesCard::default();
        let contacts: Vec<&str> = card.lines.iter().map(|l| l.contact.as_str()).collect();
        assert!(contacts[0].contains("988"));
        assert!(contacts[1].contains("116 123"));
        assert!(contacts[2].contains("13 11 14"));
        assert_eq!(
            card.lines[3].url.as_deref(),
            Some("https://findahelpline.com")
        );
    }

    #[test]
    fn default_wording_follows_safe_messaging() {
        let card = ResourcesCard::default();
        let text = format!("{} {}", card.title, card.body).to_lowercase();
        for word in [
            "commit",
            "method",
            "pills",
            "kill",
            "suicide",
            "overdose",
            "should have",
        ] {
            assert!(!text.contains(word), "card mentions {word:?}");
        }
    }

    #[test]
    fn an_operator_card_round_trips_through_json() {
        let card = ResourcesCard::default();
        let json = serde_json::to_string(&card).expect("serialize");
        assert_eq!(ResourcesCard::from_json(&json).expect("parse"), card);

        let custom = r#"{"title":"Hilfe","body":"Du bist nicht allein.",
            "lines":[{"region":"Deutschland","name":"TelefonSeelsorge","contact":"0800 111 0 111"}]}"#;
        let card = ResourcesCard::from_json(custom).expect("parse");
        assert_eq!(card.lines[0].url, None);
        assert!(
            ResourcesCard::from_json(r#"{"title":"x","body":"y","lines":[],"tittle":1}"#).is_err()
        );
        let empty = ResourcesCard::from_json(r#"{"title":"x","body":"y","lines":[]}"#);
        assert!(matches!(empty, Err(CardError::NoLines)));
        let blank =
            r#"{"title":"x","body":"y","lines":[{"region":"","name":"Line","contact":" "}]}"#;
        assert!(matches!(
            ResourcesCard::from_json(blank),
            Err(CardError::EmptyLine(1))
        ));
    }

    fn card_with_url(url: &str) -> Result<ResourcesCard, CardError> {
        let json = serde_json::json!({"title": "x", "body": "y", "lines": [
            {"region": "US", "name": "988", "contact": "Call 988", "url": "https://988lifeline.org"},
            {"region": "US", "name": "Line", "contact": "Text", "url": url},
        ]});
        ResourcesCard::from_json(&json.to_string())
    }

    #[test]
    fn a_cards_links_are_https_tel_or_sms_and_nothing_that_runs() {
        for fine in [
            "https://findahelpline.com/x?y=1",
            "tel:988",
            "TEL:+44116123",
            "sms:741741",
        ] {
            assert!(card_with_url(fine).is_ok(), "{fine}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "http://988lifeline.org",
            "https:",
            "https:///path",
            "tel:",
            "988lifeline.org",
            "https://x.org/a b",
            "https://x.org/\u{0}",
        ] {
            assert!(
                matches!(card_with_url(bad), Err(CardError::BadLink(2))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_misspelt_field_on_a_help_line_is_refused() {
        let json = r#"{"title":"x","body":"y","lines":[{"region":"US","name":"988","contact":"Call","ulr":"https://988lifeline.org"}]}"#;
        let refused = ResourcesCard::from_json(json).unwrap_err().to_string();
        assert!(refused.contains("unknown field `ulr`"), "{refused}");
    }
}
