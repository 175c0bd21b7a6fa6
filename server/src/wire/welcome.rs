//! The arrival: a `welcome`, in parts when its member list is larger than one frame
//! should be.

use kindred_protocol::{MemberInfo, ServerFrame, Welcome};

use super::{Encoded, encode};

/// A `welcome` encoded in frames of at most `budget` bytes where it can be: when the
/// member list does not fit, the welcome carries its first part and says how many
/// `members` frames follow with the rest (`member_parts`). The other fields are never
/// split, so a welcome with an outsized room description may still exceed the budget.
pub fn welcome(mut welcome: Welcome, budget: usize) -> Vec<Encoded> {
    welcome.member_parts = 0;
    let whole = encode(&ServerFrame::Welcome(welcome.clone()));
    if whole.bytes.len() <= budget {
        return vec![whole];
    }
    let members = std::mem::take(&mut welcome.members);
    // Each member costs its JSON and a comma; a part costs its frame around them.
    let size = |m: &MemberInfo| serde_json::to_string(m).map_or(0, |t| t.len()) + 1;
    let empty_welcome = encode(&ServerFrame::Welcome(welcome.clone())).bytes.len()
        // `member_parts` itself, at most ten digits.
        + r#","member_parts":4294967295"#.len();
    let empty_part = encode(&ServerFrame::Members {
        members: Vec::new(),
    })
    .bytes
    .len();
    let mut parts: Vec<Vec<MemberInfo>> = vec![Vec::new()];
    let mut used = empty_welcome;
    for m in members {
        let cost = size(&m);
        let current = parts.last().map_or(0, Vec::len);
        if current > 0 && used + cost > budget {
            parts.push(Vec::new());
            used = empty_part;
        }
        used += cost;
        if let Some(part) = parts.last_mut() {
            part.push(m);
        }
    }
    let mut parts = parts.into_iter();
    welcome.members = parts.next().unwrap_or_default();
    let rest: Vec<Vec<MemberInfo>> = parts.collect();
    welcome.member_parts = u32::try_from(rest.len()).unwrap_or(u32::MAX);
    let mut frames = Vec::with_capacity(rest.len() + 1);
    frames.push(encode(&ServerFrame::Welcome(welcome)));
    frames.extend(
        rest.into_iter()
            .map(|members| encode(&ServerFrame::Members { members })),
    );
    frames
}

#[cfg(test)]
mod tests {
    use kindred_protocol::policy::ContentPolicy;
    use kindred_protocol::{
        Me, ResumeKind, Role, RoomId, RoomState, RoomSummary, UserId, Visibility,
    };

    use super::*;

    fn welcome_with(members: usize, name: &str) -> Welcome {
        let me = Me {
            user: UserId::new(),
            name: name.to_owned(),
            role: Role::Participant,
            waiting: false,
            stepped_out: None,
        };
        Welcome {
            protocol: 1,
            you: me,
            room: RoomSummary {
                id: RoomId::new(),
                title: "Thursday circle".into(),
                topic: String::new(),
                description: String::new(),
                guidelines: "Be kind.".into(),
                capacity: 2_000,
                visibility: Visibility::Public,
                members: u32::try_from(members).unwrap(),
                open: true,
                facilitated: true,
                waiting_room: false,
                schedule: None,
                next_session: None,
            },
            members: (0..members)
                .map(|_| MemberInfo {
                    user: UserId::new(),
                    name: name.to_owned(),
                    role: Role::Participant,
                    hand_raised: false,
                    muted: false,
                    muted_until: None,
                    away: false,
                    stepping_away: false,
                })
                .collect(),
            state: RoomState::default(),
            policy: ContentPolicy::default(),
            seq: 1_500,
            epoch: 7,
            resume: ResumeKind::Fresh,
            backlog: 100,
            member_parts: 0,
            cw_topics: Vec::new(),
            moods: None,
        }
    }

    #[test]
    fn a_welcome_that_fits_is_one_frame() {
        let frames = welcome(welcome_with(20, "Willow"), 64 * 1024);
        assert_eq!(frames.len(), 1);
        let ServerFrame::Welcome(w) = serde_json::from_str(&frames[0].bytes).unwrap() else {
            panic!("not a welcome");
        };
        assert_eq!((w.members.len(), w.member_parts), (20, 0));
    }

    #[test]
    fn a_large_member_list_comes_in_parts_that_each_fit() {
        let long = "🌷".repeat(32);
        let original = welcome_with(1_500, &long);
        let budget = 32 * 1024;
        let frames = welcome(original.clone(), budget);
        assert!(frames.len() > 1);
        assert!(frames.iter().all(|f| f.bytes.len() <= budget));
        assert!(frames.iter().all(|f| f.seq.is_none()), "private frames");
        let mut decoded = frames
            .iter()
            .map(|f| serde_json::from_str::<ServerFrame>(&f.bytes).unwrap());
        let Some(ServerFrame::Welcome(mut w)) = decoded.next() else {
            panic!("the welcome comes first");
        };
        assert_eq!(w.member_parts as usize, frames.len() - 1);
        for f in decoded {
            let ServerFrame::Members { members } = f else {
                panic!("then members frames: {f:?}");
            };
            w.members.extend(members);
        }
        assert_eq!(w.members, original.members, "every member, in order");
    }
}
