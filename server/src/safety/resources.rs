//! The crisis resources card: what the author of a crisis message privately receives.
//!
//! The operator configures it per deployment or locale (loaded from JSON); the default
//! covers the US and Canada, the UK and Ireland, Australia, and everywhere else through
//! findahelpline.com. The wording follows safe-messaging practice: warm, non-judgmental,
//! about help being available, never about methods, and honest that the facilitators know.

use kindred_protocol::{CountryLines, HelpLine};
use serde::{Deserialize, Serialize};

/// A card of help lines with a short, kind message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResourcesCard {
    pub title: String,
    pub body: String,
    /// The default lines, shown until a person picks their country.
    #[serde(deserialize_with = "operator_lines")]
    pub lines: Vec<HelpLine>,
    /// The default emergency number, if one serves everyone this card is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// Lines per country, for a person who picks theirs.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "operator_countries"
    )]
    pub countries: Vec<CountryLines>,
}

/// A country's lines as an operator writes them, unknown fields refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorCountry {
    code: String,
    name: String,
    emergency: String,
    #[serde(deserialize_with = "operator_lines")]
    lines: Vec<HelpLine>,
}

fn operator_countries<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<CountryLines>, D::Error> {
    let countries = Vec::<OperatorCountry>::deserialize(d)?;
    Ok(countries
        .into_iter()
        .map(|c| CountryLines {
            code: c.code,
            name: c.name,
            emergency: c.emergency,
            lines: c.lines,
        })
        .collect())
}

/// An emergency number a phone can dial: 2 to 6 digits (000, 112, 911, 999, 10111).
fn dialable(number: &str) -> bool {
    (2..=6).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
}

/// Where on the card a help line is: the default lines, or a country's.
fn check_lines(lines: &[HelpLine], at: &str) -> Result<(), CardError> {
    if lines.is_empty() {
        return Err(CardError::NoLines(at.to_owned()));
    }
    if let Some(i) = lines
        .iter()
        .position(|l| l.name.trim().is_empty() || l.contact.trim().is_empty())
    {
        return Err(CardError::EmptyLine(i + 1, at.to_owned()));
    }
    if let Some(i) = lines
        .iter()
        .position(|l| l.url.as_deref().is_some_and(|u| !safe_link(u)))
    {
        return Err(CardError::BadLink(i + 1, at.to_owned()));
    }
    Ok(())
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
    ///
    /// Each entry of `countries` is checked the same way, and has a country code (two
    /// capital letters, each code once), a name, and an emergency number of digits
    /// only: the number a client shows is the card's, never a guess.
    pub fn from_json(json: &str) -> Result<Self, CardError> {
        let card: Self = serde_json::from_str(json)?;
        check_lines(&card.lines, "`lines`")?;
        if let Some(number) = &card.emergency
            && !dialable(number)
        {
            return Err(CardError::BadEmergency("the card".to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in card.countries.iter().enumerate() {
            let at = format!("country {}", i + 1);
            if c.code.len() != 2 || !c.code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(CardError::BadCountryCode(at));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(CardError::TwiceCountry(c.code.clone()));
            }
            let at = format!("country {}", c.code);
            if c.name.trim().is_empty() {
                return Err(CardError::NoCountryName(at));
            }
            if !dialable(&c.emergency) {
                return Err(CardError::BadEmergency(at));
            }
            check_lines(&c.lines, &at)?;
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
        "{0} has no help lines: give at least one, so a person in crisis has somewhere to turn"
    )]
    NoLines(String),
    #[error("help line {0} of {1} has no `name` or no `contact`")]
    EmptyLine(usize, String),
    #[error(
        "help line {0} of {1} has a `url` that is not an https://, tel: or sms: link (e.g. https://988lifeline.org, tel:988, sms:741741)"
    )]
    BadLink(usize, String),
    #[error("the `emergency` number of {0} is not 2 to 6 digits (e.g. 911, 999, 112, 000)")]
    BadEmergency(String),
    #[error("{0} has a `code` that is not two capital letters (ISO 3166-1, e.g. GB, US, DE)")]
    BadCountryCode(String),
    #[error("country {0} is given twice in `countries`")]
    TwiceCountry(String),
    #[error("{0} has no `name` (what a person picks, e.g. United Kingdom)")]
    NoCountryName(String),
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
            // No one number serves everywhere: a person who picks their country
            // is shown its number; until then, "your local emergency number".
            emergency: None,
            countries: vec![
                country("US", "United States", "911", &[LIFELINE_988]),
                country("CA", "Canada", "911", &[LIFELINE_988]),
                country("GB", "United Kingdom", "999", &[SAMARITANS]),
                country("IE", "Ireland", "112", &[SAMARITANS]),
                country("AU", "Australia", "000", &[LIFELINE_AU]),
            ],
        }
    }
}

type Line = (&'static str, &'static str, &'static str);

const LIFELINE_988: Line = (
    "988 Suicide & Crisis Lifeline",
    "Call or text 988",
    "https://988lifeline.org",
);
const SAMARITANS: Line = (
    "Samaritans",
    "Call 116 123 (free, any time)",
    "https://www.samaritans.org",
);
const LIFELINE_AU: Line = ("Lifeline", "Call 13 11 14", "https://www.lifeline.org.au");

fn country(code: &str, name: &str, emergency: &str, lines: &[Line]) -> CountryLines {
    CountryLines {
        code: code.to_owned(),
        name: name.to_owned(),
        emergency: emergency.to_owned(),
        lines: lines
            .iter()
            .map(|(n, contact, url)| line(name, n, contact, url))
            .collect(),
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
        assert!(matches!(empty, Err(CardError::NoLines(_))));
        let blank =
            r#"{"title":"x","body":"y","lines":[{"region":"","name":"Line","contact":" "}]}"#;
        assert!(matches!(
            ResourcesCard::from_json(blank),
            Err(CardError::EmptyLine(1, _))
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
                matches!(card_with_url(bad), Err(CardError::BadLink(2, _))),
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

    fn card_with_countries(countries: serde_json::Value) -> Result<ResourcesCard, CardError> {
        let json = serde_json::json!({"title": "x", "body": "y", "emergency": "112",
            "lines": [{"region": "Elsewhere", "name": "Find A Helpline", "contact": "Online",
                       "url": "https://findahelpline.com"}],
            "countries": countries});
        ResourcesCard::from_json(&json.to_string())
    }

    fn gb(emergency: &str) -> serde_json::Value {
        serde_json::json!({"code": "GB", "name": "United Kingdom", "emergency": emergency,
            "lines": [{"region": "UK", "name": "Samaritans", "contact": "Call 116 123",
                       "url": "tel:116123"}]})
    }

    #[test]
    fn an_operator_card_gives_each_country_its_emergency_number_and_lines() {
        let card = card_with_countries(serde_json::json!([gb("999")])).expect("parse");
        assert_eq!(card.emergency.as_deref(), Some("112"));
        assert_eq!(card.countries[0].code, "GB");
        assert_eq!(card.countries[0].emergency, "999");
        assert_eq!(
            card.countries[0].lines[0].url.as_deref(),
            Some("tel:116123")
        );
        // The default card has the countries its lines serve, each with its number.
        let default = ResourcesCard::default();
        let numbers: Vec<(&str, &str)> = default
            .countries
            .iter()
            .map(|c| (c.code.as_str(), c.emergency.as_str()))
            .collect();
        assert_eq!(
            numbers,
            [
                ("US", "911"),
                ("CA", "911"),
                ("GB", "999"),
                ("IE", "112"),
                ("AU", "000")
            ]
        );
        let json = serde_json::to_string(&default).expect("serialize");
        assert_eq!(ResourcesCard::from_json(&json).expect("parse"), default);
    }

    #[test]
    fn a_country_without_a_dialable_number_lines_or_a_proper_code_is_refused() {
        for bad in ["", "9", "99a", "+44999", "1234567", "9 9 9"] {
            let refused = card_with_countries(serde_json::json!([gb(bad)]));
            assert!(
                matches!(&refused, Err(CardError::BadEmergency(at)) if at == "country GB"),
                "{bad}: {refused:?}"
            );
        }
        let mut lower = gb("999");
        lower["code"] = "gb".into();
        assert!(matches!(
            card_with_countries(serde_json::json!([lower])),
            Err(CardError::BadCountryCode(_))
        ));
        assert!(matches!(
            card_with_countries(serde_json::json!([gb("999"), gb("112")])),
            Err(CardError::TwiceCountry(code)) if code == "GB"
        ));
        let mut no_lines = gb("999");
        no_lines["lines"] = serde_json::json!([]);
        assert!(matches!(
            card_with_countries(serde_json::json!([no_lines])),
            Err(CardError::NoLines(at)) if at == "country GB"
        ));
        let mut script = gb("999");
        script["lines"][0]["url"] = "javascript:alert(1)".into();
        assert!(matches!(
            card_with_countries(serde_json::json!([script])),
            Err(CardError::BadLink(1, at)) if at == "country GB"
        ));
        let mut unnamed = gb("999");
        unnamed["name"] = " ".into();
        assert!(matches!(
            card_with_countries(serde_json::json!([unnamed])),
            Err(CardError::NoCountryName(_))
        ));
        let mut misspelt = gb("999");
        misspelt["emergncy"] = "999".into();
        let refused = card_with_countries(serde_json::json!([misspelt]))
            .unwrap_err()
            .to_string();
        assert!(refused.contains("unknown field `emergncy`"), "{refused}");
        let top = serde_json::json!({"title": "x", "body": "y", "emergency": "dial 112",
            "lines": [{"region": "", "name": "Line", "contact": "Call"}]});
        assert!(matches!(
            ResourcesCard::from_json(&top.to_string()),
            Err(CardError::BadEmergency(_))
        ));
    }
}
