//! Evaluation in SQL: a period's inquiries counted in a few grouped scans (by channel and
//! unit, by hour, durations in `torg_domain::evaluation::BUCKET_SQL`'s buckets, the slow
//! emails), the satisfaction survey, the municipality's choices and the news' readings.

use super::shared::*;
use torg_domain::Channel;
use torg_domain::evaluation::{
    BUCKET_SQL, Costs, SURVEY_DELAY, SURVEY_STALE, SURVEYED, SurveyAnswer, Table,
};

/// The channels whose question is shown on the follow page (asked when closed, nothing sent).
const ON_FOLLOW_PAGE: [Channel; 2] = [Channel::Web, Channel::Chat];

fn channel_list(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|c| format!("'{}'", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the satisfaction question about an inquiry closed at `at` (in the transaction
/// that closes it): due after [`SURVEY_DELAY`], for the channels that are asked and when the
/// municipality asks at all. Closing again after a reopening asks again, if not yet asked.
pub(super) async fn start_survey(
    conn: &mut Conn,
    tenant: i64,
    inquiry: i64,
    at: Timestamp,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO surveys (tenant_id, inquiry_id, channel, unit_id, closed_at, due_at, sent_at) \
         SELECT tenant_id, id, channel, unit_id, $3, $4, CASE WHEN channel IN ({follow}) THEN $3 END FROM inquiries \
         WHERE tenant_id = $1 AND id = $2 AND channel IN ({surveyed}) \
         AND (channel <> 'email' OR contact_email IS NOT NULL) AND (channel <> 'sms' OR contact_phone IS NOT NULL) \
         AND NOT EXISTS (SELECT 1 FROM evaluation_settings e WHERE e.tenant_id = $1 AND e.surveys = 0) \
         ON CONFLICT (tenant_id, inquiry_id) DO UPDATE SET closed_at = excluded.closed_at, due_at = excluded.due_at, \
         sent_at = excluded.sent_at, dropped = 0 WHERE surveys.sent_at IS NULL",
        follow = channel_list(&ON_FOLLOW_PAGE),
        surveyed = channel_list(&SURVEYED),
    );
    let due = at.checked_add(SURVEY_DELAY).unwrap_or(at);
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(inquiry)
        .bind(at.as_millisecond())
        .bind(due.as_millisecond())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// `WHERE` of the period's inquiries (with `alias.` before each column when given).
fn push_period(q: &mut QueryBuilder<Db>, tenant: i64, f: &EvaluationFilter) {
    q.push(" WHERE tenant_id = ")
        .push_bind(tenant)
        .push(" AND received_at >= ")
        .push_bind(f.from.as_millisecond())
        .push(" AND received_at < ")
        .push_bind(f.to.as_millisecond());
    push_unit_channel(q, f);
}

fn push_unit_channel(q: &mut QueryBuilder<Db>, f: &EvaluationFilter) {
    if let Some(unit) = f.unit {
        q.push(" AND unit_id = ").push_bind(unit.get());
    }
    if let Some(channel) = f.channel {
        q.push(" AND channel = ").push_bind(channel.as_str());
    }
}

/// When an inquiry was answered: a first answer by staff or, without one, closing (a call
/// answered at once).
const DONE: &str = "COALESCE(first_answer_at, closed_at)";

impl This {
    async fn by_channel_unit(
        &self,
        tenant: TenantId,
        f: &EvaluationFilter,
        now: Timestamp,
    ) -> Result<Vec<ChannelUnitCount>> {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT channel, unit_id, COUNT(*), COUNT({DONE}), \
             COUNT(*) FILTER (WHERE {DONE} <= deadline_at), \
             COUNT(*) FILTER (WHERE status = 'closed'), \
             COUNT(*) FILTER (WHERE closed_at - received_at < 60000), \
             COUNT(*) FILTER (WHERE first_answer_at - received_at < 86400000), \
             COUNT(*) FILTER (WHERE first_answer_at IS NULL AND closed_at IS NULL AND deadline_at < "
        ));
        q.push_bind(now.as_millisecond()).push(") FROM inquiries");
        push_period(&mut q, tenant.get(), f);
        q.push(" GROUP BY channel, unit_id ORDER BY channel, unit_id");
        type Row = (String, i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = q
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(
                |(channel, unit, received, answered, in_time, closed, at_once, in_a_day, late)| {
                    Ok(ChannelUnitCount {
                        channel: parse(&channel, "channel")?,
                        unit_id: UnitId(unit),
                        received,
                        answered,
                        answered_in_time: in_time,
                        closed,
                        closed_at_once: at_once,
                        answered_in_a_day: in_a_day,
                        unanswered_late: late,
                    })
                },
            )
            .collect()
    }

    /// The time to the first answer by bucket, and in the same scan the emails answered
    /// between one and fourteen days by (hour received, hour answered): rows of (bucket,
    /// hour received, hour answered, count), the hours 0 for the rest.
    async fn first_answers(
        &self,
        tenant: TenantId,
        f: &EvaluationFilter,
    ) -> Result<Vec<(i64, i64, i64, i64)>> {
        let slow = "channel = 'email' AND first_answer_at - received_at >= 86400000 \
                    AND first_answer_at - received_at < 1209600000";
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {}, CASE WHEN {slow} THEN received_at / 3600000 ELSE 0 END, \
             CASE WHEN {slow} THEN first_answer_at / 3600000 ELSE 0 END, COUNT(*) FROM inquiries",
            BUCKET_SQL.replace("$d", &format!("({DONE} - received_at)"))
        ));
        push_period(&mut q, tenant.get(), f);
        q.push(format!(" AND {DONE} IS NOT NULL GROUP BY 1, 2, 3"));
        q.build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn overdue(&self, tenant: TenantId, f: &EvaluationFilter, now: Timestamp) -> Result<i64> {
        let mut q = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM inquiries WHERE tenant_id = ");
        q.push_bind(tenant.get())
            .push(" AND status <> 'closed' AND deadline_at < ")
            .push_bind(now.as_millisecond());
        push_unit_channel(&mut q, f);
        let (n,): (i64,) = q
            .build_query_as()
            .persistent(false)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n)
    }

    /// (score, count) of the questions asked about inquiries closed in the period; score 0
    /// for those not answered.
    async fn answers(&self, tenant: TenantId, f: &EvaluationFilter) -> Result<Vec<(i64, i64)>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT COALESCE(score, 0), COUNT(*) FROM surveys WHERE tenant_id = ",
        );
        q.push_bind(tenant.get())
            .push(" AND closed_at >= ")
            .push_bind(f.from.as_millisecond())
            .push(" AND closed_at < ")
            .push_bind(f.to.as_millisecond())
            .push(" AND sent_at IS NOT NULL");
        push_unit_channel(&mut q, f);
        q.push(" GROUP BY 1");
        q.build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn grouped(
        &self,
        select: &str,
        tenant: TenantId,
        f: &EvaluationFilter,
        and: &str,
        group: &str,
    ) -> Result<Vec<(i64, i64)>> {
        let mut q = QueryBuilder::<Db>::new(select);
        q.push(" FROM inquiries");
        push_period(&mut q, tenant.get(), f);
        q.push(and).push(group);
        q.build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl Evaluation for This {
    async fn evaluation_counts(
        &self,
        tenant: TenantId,
        f: &EvaluationFilter,
        now: Timestamp,
    ) -> Result<EvaluationCounts> {
        // Each count is a scan of the period's rows in `inquiries_by_received` (every
        // column is in the index); they run side by side on the pool's connections.
        let close_select = format!(
            "SELECT {}, COUNT(*)",
            BUCKET_SQL.replace("$d", "(closed_at - received_at)")
        );
        let (by_channel_unit, by_hour, first, to_close, overdue_now, answers) = tokio::try_join!(
            self.by_channel_unit(tenant, f, now),
            self.grouped(
                "SELECT received_at / 3600000, COUNT(*)",
                tenant,
                f,
                "",
                " GROUP BY 1 ORDER BY 1"
            ),
            self.first_answers(tenant, f),
            self.grouped(
                &close_select,
                tenant,
                f,
                " AND status = 'closed' AND closed_at IS NOT NULL",
                " GROUP BY 1",
            ),
            self.overdue(tenant, f, now),
            self.answers(tenant, f),
        )?;
        let mut first_answer: Vec<(i64, i64)> = vec![];
        let mut emails_slow = vec![];
        for (bucket, received, answered, n) in first {
            match first_answer.iter_mut().find(|b| b.0 == bucket) {
                Some(b) => b.1 += n,
                None => first_answer.push((bucket, n)),
            }
            if received > 0 {
                emails_slow.push((received, answered, n));
            }
        }
        let email = |c: &&ChannelUnitCount| c.channel == torg_domain::Channel::Email;
        let emails = by_channel_unit
            .iter()
            .filter(email)
            .map(|c| c.received)
            .sum();
        let emails_fast = by_channel_unit
            .iter()
            .filter(email)
            .map(|c| c.answered_in_a_day)
            .sum();
        let mut scores = [0; 5];
        for &(score, n) in &answers {
            if (1..=5).contains(&score) {
                scores[(score - 1) as usize] += n;
            }
        }
        Ok(EvaluationCounts {
            by_channel_unit,
            by_hour,
            first_answer,
            to_close,
            emails,
            emails_fast,
            emails_slow,
            overdue_now,
            surveys_sent: answers.iter().map(|a| a.1).sum(),
            scores,
        })
    }

    async fn volumes(&self, tenant: TenantId, f: &EvaluationFilter) -> Result<Vec<(Channel, i64)>> {
        let mut q = QueryBuilder::<Db>::new("SELECT channel, COUNT(*) FROM inquiries");
        push_period(&mut q, tenant.get(), f);
        q.push(" GROUP BY channel ORDER BY channel");
        let rows: Vec<(String, i64)> = q
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(c, n)| Ok((parse(&c, "channel")?, n)))
            .collect()
    }

    async fn survey_comments(
        &self,
        tenant: TenantId,
        f: &EvaluationFilter,
        limit: u32,
    ) -> Result<Vec<SurveyComment>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT score, comment, channel, answered_at FROM surveys WHERE tenant_id = ",
        );
        q.push_bind(tenant.get())
            .push(" AND closed_at >= ")
            .push_bind(f.from.as_millisecond())
            .push(" AND closed_at < ")
            .push_bind(f.to.as_millisecond())
            .push(" AND answered_at IS NOT NULL AND comment <> ''");
        push_unit_channel(&mut q, f);
        q.push(" ORDER BY answered_at DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<(i64, String, String, i64)> = q
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(score, comment, channel, at)| {
                Ok(SurveyComment {
                    score,
                    comment,
                    channel: parse(&channel, "channel")?,
                    answered_at: ts(at),
                })
            })
            .collect()
    }

    async fn evaluation_settings(&self, tenant: TenantId) -> Result<EvaluationSettings> {
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT costs, published, licence, surveys FROM evaluation_settings WHERE tenant_id = $1",
        )
        .bind(tenant.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(match row {
            Some((costs, published, licence, surveys)) => EvaluationSettings {
                costs: Costs::from_stored(&costs),
                published: Table::list_from_stored(&published),
                licence,
                surveys: surveys != 0,
            },
            None => EvaluationSettings::default(),
        })
    }

    async fn set_evaluation_settings(
        &self,
        tenant: TenantId,
        s: &EvaluationSettings,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO evaluation_settings (tenant_id, costs, published, licence, surveys) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET costs = excluded.costs, published = excluded.published, \
             licence = excluded.licence, surveys = excluded.surveys",
        )
        .bind(tenant.get())
        .bind(s.costs.to_stored())
        .bind(Table::list_to_stored(&s.published))
        .bind(&s.licence)
        .bind(i64::from(s.surveys))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn due_surveys(&self, now: Timestamp, limit: u32) -> Result<Vec<DueSurvey>> {
        let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, tenant_id, inquiry_id, channel, due_at FROM surveys \
             WHERE sent_at IS NULL AND dropped = 0 AND due_at <= $1 AND inquiry_id IS NOT NULL \
             ORDER BY due_at LIMIT $2",
        )
        .bind(now.as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, tenant, inquiry, channel, due)| {
                Ok(DueSurvey {
                    id,
                    tenant_id: TenantId(tenant),
                    inquiry_id: InquiryId(inquiry),
                    channel: parse(&channel, "channel")?,
                    due_at: ts(due),
                })
            })
            .collect()
    }

    async fn send_survey(
        &self,
        tenant: TenantId,
        survey: i64,
        token_hash: &str,
        notice: Option<&Notice>,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        // Sent only while its inquiry is still closed; a reopened one is dropped.
        let sent = sqlx::query(
            "UPDATE surveys SET sent_at = $3, token_hash = $4 WHERE tenant_id = $1 AND id = $2 \
             AND sent_at IS NULL AND dropped = 0 AND EXISTS (SELECT 1 FROM inquiries i \
             WHERE i.tenant_id = surveys.tenant_id AND i.id = surveys.inquiry_id AND i.status = 'closed')",
        )
        .bind(tenant.get())
        .bind(survey)
        .bind(at.as_millisecond())
        .bind(token_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        if !sent {
            sqlx::query(
                "UPDATE surveys SET dropped = 1 WHERE tenant_id = $1 AND id = $2 AND sent_at IS NULL",
            )
            .bind(tenant.get())
            .bind(survey)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else if let Some(notice) = notice {
            let inquiry: Option<i64> = sqlx::query_scalar(
                "SELECT inquiry_id FROM surveys WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.get())
            .bind(survey)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            insert_outgoing(
                &mut tx,
                tenant.get(),
                inquiry,
                None,
                &notice.out,
                at.as_millisecond(),
                Some(&notice.body),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(sent)
    }

    async fn drop_survey(&self, tenant: TenantId, survey: i64) -> Result<()> {
        sqlx::query(
            "UPDATE surveys SET dropped = 1 WHERE tenant_id = $1 AND id = $2 AND sent_at IS NULL",
        )
        .bind(tenant.get())
        .bind(survey)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>> {
        let row: Option<(i64, i64, Option<i64>, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, tenant_id, inquiry_id, channel, score FROM surveys WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(survey).transpose()
    }

    async fn survey_for_inquiry(
        &self,
        tenant: TenantId,
        inquiry: InquiryId,
    ) -> Result<Option<Survey>> {
        let row: Option<(i64, i64, Option<i64>, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, tenant_id, inquiry_id, channel, score FROM surveys \
             WHERE tenant_id = $1 AND inquiry_id = $2 AND sent_at IS NOT NULL",
        )
        .bind(tenant.get())
        .bind(inquiry.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(survey).transpose()
    }

    async fn sms_survey_waiting(
        &self,
        tenant: TenantId,
        phone: &str,
        since: Timestamp,
        answered_since: Timestamp,
    ) -> Result<Option<Survey>> {
        // Sent since `since` means closed at most SURVEY_STALE (and the delay) before it:
        // the index by closing time narrows the search.
        let closed_since = since - SURVEY_STALE - SURVEY_DELAY;
        let row: Option<(i64, i64, Option<i64>, String, Option<i64>)> = sqlx::query_as(
            "SELECT s.id, s.tenant_id, s.inquiry_id, s.channel, s.score FROM surveys s \
             JOIN inquiries i ON i.tenant_id = s.tenant_id AND i.id = s.inquiry_id \
             WHERE s.tenant_id = $1 AND s.closed_at >= $2 AND s.sent_at >= $3 \
             AND s.channel = 'sms' AND (s.score IS NULL OR s.answered_at >= $5) AND s.dropped = 0 \
             AND i.contact_phone = $4 \
             ORDER BY s.sent_at DESC, s.id DESC LIMIT 1",
        )
        .bind(tenant.get())
        .bind(closed_since.as_millisecond())
        .bind(since.as_millisecond())
        .bind(phone)
        .bind(answered_since.as_millisecond())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(survey).transpose()
    }

    async fn answer_survey(
        &self,
        tenant: TenantId,
        survey: i64,
        answer: &SurveyAnswer,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE surveys SET score = $3, comment = $4, answered_at = $5 \
             WHERE tenant_id = $1 AND id = $2 AND sent_at IS NOT NULL AND answered_at IS NULL",
        )
        .bind(tenant.get())
        .bind(survey)
        .bind(answer.score)
        .bind(&answer.comment)
        .bind(at.as_millisecond())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn count_view(&self, tenant: TenantId, publication: i64) -> Result<()> {
        sqlx::query("UPDATE publications SET views = views + 1 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(publication)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn reach(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<Reach>> {
        let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT id, title, publish_at, views FROM publications WHERE tenant_id = $1 AND state = 'approved' \
             AND publish_at >= $2 AND publish_at < $3 ORDER BY publish_at DESC, id DESC LIMIT $4",
        )
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, title, at, views) in rows {
            let posts: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                "SELECT o.channel, CAST(COALESCE(SUM(r.reactions), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(r.comments), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(r.shares), 0) AS BIGINT) FROM outbox o LEFT JOIN post_reach r ON r.outbox_id = o.id \
                 WHERE o.tenant_id = $1 AND o.header_id LIKE $2 AND o.status = 'sent' \
                 GROUP BY o.channel ORDER BY o.channel",
            )
            .bind(tenant.get())
            .bind(format!("publication-{id}-%"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            out.push(Reach {
                publication_id: id,
                title,
                publish_at: ts(at),
                views,
                reactions: posts.iter().map(|p| p.1).sum(),
                comments: posts.iter().map(|p| p.2).sum(),
                shares: posts.iter().map(|p| p.3).sum(),
                posts: posts.into_iter().map(|p| p.0).collect(),
            });
        }
        Ok(out)
    }

    async fn published_posts(&self, since: Timestamp, limit: u32) -> Result<Vec<PublishedPost>> {
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, tenant_id, channel, recipient, external_ref FROM outbox \
             WHERE channel IN ('facebook', 'instagram', 'mastodon') AND status = 'sent' \
             AND header_id LIKE 'publication-%' AND external_ref IS NOT NULL AND sent_at >= $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(since.as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, tenant, channel, recipient, address)| {
                Ok(PublishedPost {
                    outbox_id: id,
                    tenant_id: TenantId(tenant),
                    channel: parse(&channel, "channel")?,
                    // `account|publish:ID`
                    account: recipient
                        .split_once('|')
                        .map_or(recipient.as_str(), |(a, _)| a)
                        .to_string(),
                    address,
                })
            })
            .collect()
    }

    async fn record_post_reach(
        &self,
        tenant: TenantId,
        readings: &[PostReading],
        at: Timestamp,
    ) -> Result<()> {
        if readings.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for r in readings {
            // Only the municipality's own posts.
            sqlx::query(
                "INSERT INTO post_reach (outbox_id, tenant_id, reactions, comments, shares, read_at) \
                 SELECT id, tenant_id, $3, $4, $5, $6 FROM outbox WHERE id = $1 AND tenant_id = $2 \
                 ON CONFLICT (outbox_id) DO UPDATE SET reactions = excluded.reactions, \
                 comments = excluded.comments, shares = excluded.shares, read_at = excluded.read_at",
            )
            .bind(r.outbox_id)
            .bind(tenant.get())
            .bind(r.reactions)
            .bind(r.comments)
            .bind(r.shares)
            .bind(at.as_millisecond())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

fn survey(row: (i64, i64, Option<i64>, String, Option<i64>)) -> Result<Survey> {
    let (id, tenant, inquiry, channel, score) = row;
    Ok(Survey {
        id,
        tenant_id: TenantId(tenant),
        inquiry_id: inquiry.map(InquiryId),
        channel: parse(&channel, "channel")?,
        score,
    })
}
