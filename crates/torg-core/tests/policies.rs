//! The municipality's rules set through the core on a real SQLite store: each change is
//! checked, written with its audit entry, and refused with a reason when it makes no sense.

use torg_core::actor::Actor;
use torg_core::policies::{self, PolicyError};
use torg_domain::{TenantId, UnitId};
use torg_store::*;

async fn setup() -> (
    tempfile::TempDir,
    std::sync::Arc<dyn Store>,
    Municipality,
    Unit,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "p".into(),
            name: "P kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    let unit = store
        .create_unit(m.id, "Vann og avløp", false, false, None)
        .await
        .expect("unit");
    (dir, store, m, unit)
}

async fn logged(store: &dyn Store, tenant: TenantId, action: &str) -> Vec<String> {
    let query = AuditQuery {
        action: Some(action.into()),
        ..AuditQuery::default()
    };
    store
        .search_audit(tenant, &query, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| format!("{} {} {}", e.entry.actor, e.entry.object, e.entry.detail))
        .collect()
}

#[tokio::test]
async fn rules_are_checked_written_and_logged() {
    let (_dir, store, m, unit) = setup().await;
    let s = &*store;
    let cli = Actor::cli();
    // A routing rule without conditions would match nothing.
    let empty = torg_domain::routing::RoutingRule {
        position: 1,
        keyword: None,
        topic: None,
        channel: None,
        unit_id: unit.id,
    };
    assert!(matches!(
        policies::add_routing_rule(s, &cli, m.id, empty.clone()).await,
        Err(PolicyError::RuleWithoutCondition)
    ));
    let rule = torg_domain::routing::RoutingRule {
        keyword: Some("vann".into()),
        ..empty
    };
    policies::add_routing_rule(s, &cli, m.id, rule)
        .await
        .expect("rule");
    assert_eq!(s.list_routing_rules(m.id).await.expect("rules").len(), 1);
    assert_eq!(logged(s, m.id, "rule.added").await.len(), 1);

    // Moderation words as typed: lower case, no repeats or blanks, each bounded.
    let kept = policies::set_moderation_keywords(
        s,
        &cli,
        m.id,
        &format!("Idiot, idiot ,\n\n SVINDEL,{}", "x".repeat(300)),
    )
    .await
    .expect("words");
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept.contains(&"idiot".to_string()) && kept.contains(&"svindel".to_string()));
    assert!(
        kept.iter()
            .all(|w| w.chars().count() <= policies::MAX_MODERATION_WORD)
    );
    assert_eq!(s.moderation_keywords(m.id).await.expect("w"), kept);
    assert_eq!(logged(s, m.id, "moderation.keywords").await.len(), 1);

    // Retention within bounds only; a refusal writes nothing and logs nothing.
    assert!(matches!(
        policies::set_retention_days(s, &cli, m.id, 5).await,
        Err(PolicyError::RetentionOutOfRange)
    ));
    policies::set_retention_days(s, &cli, m.id, 90)
        .await
        .expect("days");
    assert_eq!(s.retention_days(m.id).await.expect("d"), 90);
    assert_eq!(logged(s, m.id, "retention.set").await.len(), 1);

    // SMS code words: one folded word, a unit of the municipality, a bounded answer.
    assert!(matches!(
        policies::set_sms_keyword(s, &cli, m.id, "STOPP", unit.id, "").await,
        Err(PolicyError::CodeWord(_))
    ));
    assert!(matches!(
        policies::set_sms_keyword(s, &cli, m.id, "vann", UnitId(unit.id.get() + 99), "").await,
        Err(PolicyError::UnknownUnit)
    ));
    assert!(matches!(
        policies::set_sms_keyword(s, &cli, m.id, "vann", unit.id, &"x".repeat(700)).await,
        Err(PolicyError::KeywordReplyTooLong)
    ));
    let word = policies::set_sms_keyword(s, &cli, m.id, " VANN ", unit.id, "Takk!")
        .await
        .expect("word");
    assert_eq!(word.keyword, "vann");
    assert!(
        policies::remove_sms_keyword(s, &cli, m.id, "Vann")
            .await
            .expect("rm")
    );
    assert!(
        !policies::remove_sms_keyword(s, &cli, m.id, "vann")
            .await
            .expect("rm again"),
        "already gone"
    );
    assert_eq!(
        logged(s, m.id, "settings.sms_keyword_removed").await.len(),
        1
    );

    // An acknowledgement must tell the reference and the link.
    assert!(matches!(
        policies::set_acknowledgement(s, &cli, m.id, "nb", "Takk for meldingen.").await,
        Err(PolicyError::AcknowledgementWithoutLink)
    ));
    policies::set_acknowledgement(s, &cli, m.id, "nb", "Sak {referanse}: {lenke}")
        .await
        .expect("ack");
    assert_eq!(logged(s, m.id, "acknowledgement.set").await.len(), 1);
}

#[tokio::test]
async fn rules_are_ordered_tried_changed_and_removed_with_an_audit_entry_each() {
    use torg_core::policies::{Move, try_rules};
    use torg_domain::Channel;
    use torg_domain::routing::{RoutingInput, RoutingRule};
    let (_dir, store, m, water) = setup().await;
    let s = &*store;
    let cli = Actor::cli();
    let roads = s
        .create_unit(m.id, "Vei", false, false, None)
        .await
        .expect("unit");
    let rule = |position, word: &str, unit: UnitId| RoutingRule {
        position,
        keyword: Some(word.into()),
        topic: None,
        channel: None,
        unit_id: unit,
    };
    let a = policies::add_routing_rule(s, &cli, m.id, rule(10, "vann", water.id))
        .await
        .expect("a");
    let b = policies::add_routing_rule(s, &cli, m.id, rule(20, "vannkum", roads.id))
        .await
        .expect("b");
    let sample = RoutingInput {
        channel: Channel::Web,
        topic: None,
        text: "Vannkummen i veien er knust",
    };
    let rules = s.list_routing_rules(m.id).await.expect("rules");
    let fallback = UnitId(999);
    assert_eq!(
        try_rules(&rules, &sample, fallback),
        policies::Trial {
            unit: water.id,
            rule: Some(a)
        }
    );
    // Moved up, the narrower rule decides.
    policies::move_routing_rule(s, &cli, m.id, b, Move::Up)
        .await
        .expect("move");
    let rules = s.list_routing_rules(m.id).await.expect("rules");
    assert_eq!(
        rules
            .iter()
            .map(|(id, r)| (*id, r.position))
            .collect::<Vec<_>>(),
        vec![(b, 10), (a, 20)]
    );
    assert_eq!(try_rules(&rules, &sample, fallback).rule, Some(b));
    // The first moved up stays first, and that is logged as a move too.
    policies::move_routing_rule(s, &cli, m.id, b, Move::Up)
        .await
        .expect("move");
    assert_eq!(s.list_routing_rules(m.id).await.expect("r")[0].0, b);
    assert_eq!(logged(s, m.id, "rule.moved").await.len(), 2);
    assert!(matches!(
        policies::move_routing_rule(s, &cli, m.id, 4242, Move::Down).await,
        Err(PolicyError::NotFound)
    ));
    let nothing = RoutingInput {
        text: "Hei",
        ..sample
    };
    assert_eq!(try_rules(&rules, &nothing, fallback).rule, None);
    assert_eq!(try_rules(&rules, &nothing, fallback).unit, fallback);

    policies::remove(s, &cli, m.clone(), PolicyItem::RoutingRule(b))
        .await
        .expect("remove");
    assert!(matches!(
        policies::remove(s, &cli, m.clone(), PolicyItem::RoutingRule(b)).await,
        Err(PolicyError::NotFound)
    ));
    assert_eq!(
        logged(s, m.id, "rule.removed").await,
        vec![format!("cli rule:{b} ")]
    );

    let reply = policies::add_canned_reply(s, &cli, m.id, "Takk", "Hei {navn}")
        .await
        .expect("canned");
    assert!(matches!(
        policies::edit_canned_reply(s, &cli, m.id, reply.id, " ", "x").await,
        Err(PolicyError::EmptyCannedReply)
    ));
    policies::edit_canned_reply(s, &cli, m.id, reply.id, "Takk for meldingen", "Hei!")
        .await
        .expect("edit");
    assert_eq!(
        s.list_canned_replies(m.id).await.expect("c")[0].title,
        "Takk for meldingen"
    );
    assert_eq!(logged(s, m.id, "canned.changed").await.len(), 1);

    let day = ClosedDay {
        date: jiff::civil::date(2026, 12, 31),
        closes_at: None,
        note: String::new(),
    };
    policies::close_day(s, &cli, m.clone(), day.clone())
        .await
        .expect("close");
    policies::remove(s, &cli, m.clone(), PolicyItem::ClosedDay(day.date))
        .await
        .expect("open again");
    assert!(s.list_closed_days(m.id).await.expect("d").is_empty());
    assert_eq!(
        logged(s, m.id, "hours.day_opened").await,
        vec!["cli date:2026-12-31 ".to_string()]
    );
}
