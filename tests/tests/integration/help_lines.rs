//! Help lines per place: the operator's resources card gives each country its
//! emergency number and lines, and a member in crisis receives all of it, so their
//! page can show the lines of the country they pick (and the default until then).

use kindred_protocol::ServerFrame;
use kindred_tests::process::{refused, scratch};
use kindred_tests::{TestServer, config};

const CARD: &str = r#"{
  "title": "You are not alone",
  "body": "Someone can talk with you right now.",
  "lines": [{"region": "Elsewhere", "name": "Find A Helpline", "contact": "Lines in your country",
             "url": "https://findahelpline.com"}],
  "countries": [
    {"code": "DE", "name": "Deutschland", "emergency": "112",
     "lines": [{"region": "Deutschland", "name": "TelefonSeelsorge", "contact": "Call 0800 111 0 111",
                "url": "tel:08001110111"}]},
    {"code": "NZ", "name": "New Zealand", "emergency": "111",
     "lines": [{"region": "New Zealand", "name": "Need to talk?", "contact": "Call or text 1737",
                "url": "sms:1737"}]}
  ]
}"#;

#[tokio::test]
async fn a_member_in_crisis_receives_the_operators_lines_for_every_country() {
    let dir = scratch("help-lines");
    let path = dir.join("card.json");
    std::fs::write(&path, CARD).expect("card written");
    let mut c = config();
    c.operations.resources_card = Some(path);
    let server = TestServer::with(c).await;
    let room = server.room(12).await;
    let _fran = server.facilitator(room, "Fran").await;
    let mut alice = server.member(room, "Alice").await;

    alice.say_acked("I want to kill myself tonight").await;
    let (lines, emergency, countries) = alice
        .until(|f| match f {
            ServerFrame::CrisisResources {
                lines,
                emergency,
                countries,
                ..
            } => Some((lines.clone(), emergency.clone(), countries.clone())),
            _ => None,
        })
        .await;
    assert_eq!(lines[0].name, "Find A Helpline", "the default lines first");
    assert_eq!(
        emergency, None,
        "the card gives no default number: none is made up"
    );
    let picked: Vec<(&str, &str, &str, Option<&str>)> = countries
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.emergency.as_str(),
                c.lines[0].name.as_str(),
                c.lines[0].url.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        picked,
        [
            ("DE", "112", "TelefonSeelsorge", Some("tel:08001110111")),
            ("NZ", "111", "Need to talk?", Some("sms:1737")),
        ]
    );
    // The page's "Need help now" reads the same card before anyone writes.
    let page: serde_json::Value = reqwest::get(format!("{}/api/resources", server.base()))
        .await
        .expect("GET /api/resources")
        .json()
        .await
        .expect("json");
    assert_eq!(page["countries"][1]["emergency"], "111");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_card_whose_country_has_no_dialable_emergency_number_stops_the_server_at_start_up() {
    let dir = scratch("help-lines-bad");
    let path = dir.join("card.json");
    std::fs::write(
        &path,
        CARD.replace(r#""emergency": "111""#, r#""emergency": "call 111""#),
    )
    .expect("card written");
    let card = path.to_str().expect("utf-8 path");
    let (code, said) = refused(&[("KINDRED_RESOURCES_CARD", card)], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("card.json"), "{said}");
    assert!(
        said.contains("the `emergency` number of country NZ is not 2 to 6 digits"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
