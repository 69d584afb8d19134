//! Routing rules (ruting): channel, topic and keyword decide which unit gets an inquiry.
//! The service desk (servicetorget) is the fallback.

use crate::Channel;
use serde::{Deserialize, Serialize};

/// One rule. Every condition that is set must hold; the first matching rule by `position` wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub position: i64,
    /// A word that must occur in the subject or text (case-insensitive, whole word or prefix
    /// of a word, so "barnehage" matches "barnehageplass").
    pub keyword: Option<String>,
    pub topic: Option<String>,
    pub channel: Option<Channel>,
    pub unit_id: crate::UnitId,
}

/// What routing looks at.
pub struct RoutingInput<'a> {
    pub channel: Channel,
    pub topic: Option<&'a str>,
    pub text: &'a str,
}

impl RoutingRule {
    pub fn matches(&self, input: &RoutingInput<'_>) -> bool {
        if self.keyword.is_none() && self.topic.is_none() && self.channel.is_none() {
            return false;
        }
        if let Some(c) = self.channel
            && c != input.channel
        {
            return false;
        }
        if let Some(t) = &self.topic
            && !input.topic.is_some_and(|it| {
                it.trim().eq_ignore_ascii_case(t.trim())
                    || it.trim().to_lowercase() == t.trim().to_lowercase()
            })
        {
            return false;
        }
        if let Some(k) = &self.keyword {
            let k = k.trim().to_lowercase();
            if k.is_empty() {
                return false;
            }
            let text = input.text.to_lowercase();
            let found = text
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(&k));
            if !found {
                return false;
            }
        }
        true
    }
}

/// The unit an inquiry goes to: the first matching rule, else the fallback (service desk).
pub fn route(
    rules: &[RoutingRule],
    input: &RoutingInput<'_>,
    fallback_unit: crate::UnitId,
) -> crate::UnitId {
    deciding(rules, input)
        .map(|i| rules[i].unit_id)
        .unwrap_or(fallback_unit)
}

/// The index in `rules` of the rule that decides: the matching one of lowest position (of equal
/// positions, the earlier in `rules`), or `None` when the fallback gets it.
pub fn deciding(rules: &[RoutingRule], input: &RoutingInput<'_>) -> Option<usize> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].position);
    order.into_iter().find(|&i| rules[i].matches(input))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(
        position: i64,
        keyword: Option<&str>,
        topic: Option<&str>,
        channel: Option<Channel>,
        unit_id: i64,
    ) -> RoutingRule {
        RoutingRule {
            position,
            keyword: keyword.map(String::from),
            topic: topic.map(String::from),
            channel,
            unit_id: crate::UnitId(unit_id),
        }
    }

    #[test]
    fn keyword_routes_to_unit_and_fallback_catches_the_rest() {
        let rules = vec![
            rule(1, Some("barnehage"), None, None, 2),
            rule(2, None, Some("Vann og avløp"), None, 3),
            rule(3, Some("vann"), None, Some(Channel::Sms), 4),
        ];
        let r = |channel, topic, text| {
            route(
                &rules,
                &RoutingInput {
                    channel,
                    topic,
                    text,
                },
                crate::UnitId(1),
            )
        };
        assert_eq!(r(Channel::Web, None, "Søknad om Barnehageplass"), 2);
        assert_eq!(r(Channel::Web, Some("vann og avløp"), "Lekkasje"), 3);
        assert_eq!(r(Channel::Sms, None, "VANN brudd i gata"), 4);
        assert_eq!(r(Channel::Web, None, "vann brudd i gata"), 1);
        assert_eq!(r(Channel::Web, None, "Hei, et spørsmål"), 1);
    }

    #[test]
    fn first_rule_by_position_wins() {
        let rules = vec![
            rule(5, Some("skole"), None, None, 9),
            rule(1, Some("skole"), None, None, 8),
        ];
        let input = RoutingInput {
            channel: Channel::Web,
            topic: None,
            text: "skole",
        };
        assert_eq!(route(&rules, &input, crate::UnitId(1)), 8);
        assert_eq!(deciding(&rules, &input), Some(1));
        let tie = vec![
            rule(1, Some("skole"), None, None, 9),
            rule(1, Some("skole"), None, None, 8),
        ];
        assert_eq!(
            deciding(&tie, &input),
            Some(0),
            "of equal positions, the earlier"
        );
    }

    #[test]
    fn an_empty_rule_matches_nothing() {
        let rules = vec![
            rule(1, None, None, None, 9),
            rule(2, Some("  "), None, None, 9),
        ];
        let input = RoutingInput {
            channel: Channel::Web,
            topic: None,
            text: "alt",
        };
        assert_eq!(route(&rules, &input, crate::UnitId(1)), 1);
    }

    proptest! {
        #[test]
        fn without_rules_everything_goes_to_the_fallback(text in ".*") {
            let input = RoutingInput { channel: Channel::Web, topic: None, text: &text };
            prop_assert_eq!(route(&[], &input, crate::UnitId(7)), 7);
        }

        #[test]
        fn the_deciding_rule_matches_and_none_before_it_does(
            words in proptest::collection::vec("[a-c]{1,2}", 0..6),
            positions in proptest::collection::vec(0i64..4, 6),
            text in "[a-c ]{0,12}",
        ) {
            let rules: Vec<RoutingRule> = words
                .iter()
                .zip(&positions)
                .enumerate()
                .map(|(i, (w, p))| rule(*p, Some(w), None, None, i as i64))
                .collect();
            let input = RoutingInput { channel: Channel::Web, topic: None, text: &text };
            match deciding(&rules, &input) {
                Some(i) => {
                    prop_assert!(rules[i].matches(&input));
                    for (j, r) in rules.iter().enumerate() {
                        let before = r.position < rules[i].position
                            || (r.position == rules[i].position && j < i);
                        prop_assert!(!(before && r.matches(&input)));
                    }
                }
                None => prop_assert!(rules.iter().all(|r| !r.matches(&input))),
            }
        }
    }
}
