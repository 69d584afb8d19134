//! Inquiries in SQL: creation through the group-commit writer, reads, lists, messages, assignment, status, attachments, deadline warnings.

use super::shared::*;

/// The words of a search that is not a reference, as the index is asked.
fn search_query(filter: &InquiryFilter) -> Option<torg_domain::search::Query> {
    filter
        .search
        .as_deref()
        .and_then(torg_domain::search::words_of)
}

/// `head` (`SELECT …`) over a search's inquiries in `span`, driven by the index, with the
/// rest of `filter`; `None` when nothing can match (no unit visible).
fn search_select(
    head: &str,
    tenant: TenantId,
    query: &torg_domain::search::Query,
    filter: &InquiryFilter,
    span: crate::SearchSpan,
    frequent: &std::collections::HashSet<String>,
) -> Option<QueryBuilder<Db>> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(head);
    push_search_from(&mut q, tenant.get(), query, span, frequent);
    let rest = InquiryFilter {
        search: None,
        ..filter.clone()
    };
    push_filter(&mut q, &rest).then_some(q)
}

/// The spans a search of `filter` asks in turn, newest first, for the inquiries below
/// `before` (all when none). With [`SEARCH_BY_BLOCKS`], from the newest inquiry's block
/// down, when the search is of every status or of closed ones; a search of open inquiries
/// (few, by far) is one query that the planner may drive from them.
async fn search_spans(
    conn: &mut <Db as sqlx::Database>::Connection,
    filter: &InquiryFilter,
    before: Option<i64>,
) -> Result<Vec<crate::SearchSpan>> {
    let many = matches!(
        filter.status,
        StatusFilter::Any | StatusFilter::Only(InquiryStatus::Closed)
    );
    if !SEARCH_BY_BLOCKS || !many {
        return Ok(vec![crate::SearchSpan::Below(before)]);
    }
    let upper = match before {
        Some(id) => id,
        None => {
            let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM inquiries")
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            newest.unwrap_or(0) + 1
        }
    };
    Ok(crate::search_spans(upper))
}

/// A read transaction for a search's queries, set up as [`SEARCH_SETUP`] says.
async fn search_transaction(pool: &sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    if !SEARCH_SETUP.is_empty() {
        sqlx::query(SEARCH_SETUP)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    Ok(tx)
}

/// The conditions of `filter` after `WHERE tenant_id = …`; false when nothing can match (no
/// unit visible).
fn push_filter(q: &mut QueryBuilder<Db>, filter: &InquiryFilter) -> bool {
    match filter.status {
        // Written literally so that the partial "open" indexes apply.
        StatusFilter::NotClosed => {
            q.push(" AND status <> 'closed'");
        }
        StatusFilter::Only(s) => {
            q.push(" AND status = ").push_bind(s.as_str());
        }
        StatusFilter::Any => {}
    }
    if let Some(u) = filter.unit_id {
        q.push(" AND unit_id = ").push_bind(u.get());
    }
    if let Some(units) = &filter.visible_units {
        if units.is_empty() {
            return false;
        }
        q.push(" AND unit_id IN (");
        let mut list = q.separated(", ");
        for u in units {
            list.push_bind(u.get());
        }
        q.push(")");
    }
    if let Some(c) = filter.channel {
        q.push(" AND channel = ").push_bind(c.as_str());
    }
    if let Some(a) = filter.assignee_id {
        q.push(" AND assignee_id = ").push_bind(a.get());
    }
    if let Some(s) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // A reference exactly (words go through `search_query` and `push_search_from`).
        match s.parse::<Reference>() {
            Ok(reference) => q.push(" AND reference = ").push_bind(reference.to_string()),
            Err(_) => q.push(" AND 1 = 0"),
        };
    }
    true
}

#[async_trait]
impl Inquiries for This {
    async fn deadline_counts(
        &self,
        tenant: TenantId,
        now: Timestamp,
        warn_permille: i64,
    ) -> Result<Vec<UnitDeadlineCounts>> {
        let now = now.as_millisecond();
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT unit_id, COUNT(*), \
             SUM(CASE WHEN deadline_at >= $2 AND received_at * 1000 + (deadline_at - received_at) * $3 <= $2 * 1000 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN deadline_at < $2 THEN 1 ELSE 0 END) \
             FROM inquiries WHERE tenant_id = $1 AND status <> 'closed' GROUP BY unit_id ORDER BY unit_id",
        )
        .bind(tenant.get())
        .bind(now)
        .bind(warn_permille)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(unit_id, open, warning, overdue)| UnitDeadlineCounts {
                unit_id: UnitId(unit_id),
                open,
                warning,
                overdue,
            })
            .collect())
    }

    async fn inquiries_to_warn(
        &self,
        tenant: TenantId,
        now: Timestamp,
        warn_permille: i64,
        limit: u32,
    ) -> Result<Vec<InquirySummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND status IN ('new', 'open') AND warned_at IS NULL \
             AND received_at * 1000 + (deadline_at - received_at) * $3 <= $2 * 1000 ORDER BY deadline_at, id LIMIT $4"
        )))
        .bind(tenant.get())
        .bind(now.as_millisecond())
        .bind(warn_permille)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn mark_warned(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        notices: &[Notice],
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let marked = sqlx::query("UPDATE inquiries SET warned_at = $1 WHERE tenant_id = $2 AND id = $3 AND warned_at IS NULL")
            .bind(at.as_millisecond())
            .bind(tenant.get())
            .bind(inquiry_id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if marked == 0 {
            return Ok(false);
        }
        for notice in notices {
            insert_outgoing(
                &mut tx,
                tenant.get(),
                Some(inquiry_id.get()),
                None,
                &notice.out,
                at.as_millisecond(),
                Some(&notice.body),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn open_deadline_inputs(&self, tenant: TenantId) -> Result<Vec<DeadlineInput>> {
        let rows: Vec<(i64, String, i64, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT id, channel, unit_id, topic, received_at, deadline_at FROM inquiries WHERE tenant_id = $1 AND status <> 'closed' ORDER BY id",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, channel, unit_id, topic, received_at, deadline_at)| {
                Ok(DeadlineInput {
                    id: InquiryId(id),
                    channel: channel.parse().map_err(|_| {
                        StoreError::Database(format!("unknown channel {channel:?}"))
                    })?,
                    unit_id: UnitId(unit_id),
                    topic,
                    received_at: ts(received_at),
                    deadline_at: ts(deadline_at),
                })
            })
            .collect()
    }

    async fn set_deadlines(
        &self,
        tenant: TenantId,
        deadlines: &[(InquiryId, Timestamp)],
    ) -> Result<u64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut changed = 0;
        for (id, deadline) in deadlines {
            changed += sqlx::query("UPDATE inquiries SET deadline_at = $1 WHERE tenant_id = $2 AND id = $3 AND deadline_at <> $1")
                .bind(deadline.as_millisecond())
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn create_inquiry(&self, new: NewInquiry) -> Result<Created> {
        batch::submit(&self.writer, new).await
    }

    async fn inquiry(&self, tenant: TenantId, id: InquiryId) -> Result<Option<Inquiry>> {
        let row: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.get())
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn inquiry_by_follow_token(
        &self,
        tenant: TenantId,
        id: InquiryId,
        token_hash: &str,
    ) -> Result<Option<Inquiry>> {
        let row: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND id = $2 AND follow_token_hash = $3 AND follow_token_hash <> ''"
        )))
        .bind(tenant.get())
        .bind(id.get())
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn inquiry_by_reference(
        &self,
        tenant: TenantId,
        reference: &str,
    ) -> Result<Option<InquiryId>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM inquiries WHERE tenant_id = $1 AND reference = $2")
                .bind(tenant.get())
                .bind(reference)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(id.map(InquiryId))
    }

    async fn inquiry_by_mail_id(
        &self,
        tenant: TenantId,
        header_id: &str,
    ) -> Result<Option<InquiryId>> {
        // One we sent, one we received, or the first message of an inquiry that came by email
        // (its Message-ID is the inquiry's external id).
        for sql in [
            "SELECT inquiry_id FROM outbox WHERE tenant_id = $1 AND header_id = $2",
            "SELECT inquiry_id FROM messages WHERE tenant_id = $1 AND external_id = $2",
            "SELECT id FROM inquiries WHERE tenant_id = $1 AND channel = 'email' AND external_id = $2",
        ] {
            let found: Option<i64> = sqlx::query_scalar(sql)
                .bind(tenant.get())
                .bind(header_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
            if let Some(id) = found {
                return Ok(Some(InquiryId(id)));
            }
        }
        Ok(None)
    }

    async fn open_inquiry_by_thread(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        thread_key: &str,
    ) -> Result<Option<(InquiryId, Option<String>)>> {
        let row: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT id, external_id FROM inquiries i WHERE tenant_id = $1 AND channel = $2 AND thread_key = $3 \
             AND (status <> 'closed' OR EXISTS (SELECT 1 FROM inquiries p WHERE p.tenant_id = i.tenant_id \
             AND p.id = i.merged_into AND p.status <> 'closed')) ORDER BY id DESC LIMIT 1",
        )
        .bind(tenant.get())
        .bind(channel.as_str())
        .bind(thread_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(|(id, external)| (InquiryId(id), external)))
    }

    async fn revoke_follow_token(
        &self,
        tenant: TenantId,
        id: InquiryId,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        // No token hashes to the empty string, so the link matches nothing any more.
        let changed = sqlx::query(
            "UPDATE inquiries SET follow_token_hash = '' WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.get())
        .bind(id.get())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("inquiry"));
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn list_inquiries(
        &self,
        tenant: TenantId,
        filter: &InquiryFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<InquirySummary>> {
        if let Some(query) = search_query(filter) {
            // Words: the index drives, newest first, span by span, stopping at the page's end;
            // each span's ids first (the index and the filters), then the page's rows.
            let before = after.map(|c| c.id.get());
            let frequent = self.frequent_terms().await?;
            let mut tx = search_transaction(&self.pool).await?;
            let mut rows: Vec<SummaryRow> = vec![];
            for span in search_spans(&mut tx, filter, before).await? {
                let head = "SELECT inquiries.id";
                let Some(mut ids) = search_select(head, tenant, &query, filter, span, &frequent)
                else {
                    return Ok(Vec::new());
                };
                if let Some(before) = before {
                    ids.push(" AND inquiries.id < ").push_bind(before);
                }
                ids.push(" ORDER BY ")
                    .push(SEARCH_ORDER)
                    .push(" DESC LIMIT ")
                    .push_bind(i64::from(limit) - rows.len() as i64);
                let ids: Vec<i64> = ids
                    .build_query_scalar()
                    .persistent(false)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if ids.is_empty() {
                    continue;
                }
                let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = "
                ));
                q.push_bind(tenant.get()).push(" AND id IN (");
                let mut list = q.separated(", ");
                for id in &ids {
                    list.push_bind(id);
                }
                q.push(") ORDER BY id DESC");
                let found: Vec<SummaryRow> = q
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                rows.extend(found);
                if rows.len() >= limit as usize {
                    break;
                }
            }
            return rows.into_iter().map(TryInto::try_into).collect();
        }
        let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = "
        ));
        q.push_bind(tenant.get());
        if !push_filter(&mut q, filter) {
            return Ok(Vec::new());
        }
        if let Some(c) = after {
            q.push(" AND (deadline_at, received_at, id) > (")
                .push_bind(c.deadline_at);
            q.push(", ").push_bind(c.received_at);
            q.push(", ").push_bind(c.id.get()).push(")");
        }
        q.push(" ORDER BY deadline_at, received_at, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<SummaryRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn reindex_search(
        &self,
        after: i64,
        limit: u32,
        only_missing: bool,
    ) -> Result<(u64, i64)> {
        type Texts = (i64, i64, String, String, String, String);
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT id, tenant_id, citizen_name, COALESCE(contact_email, ''), COALESCE(contact_phone, ''), \
             COALESCE(subject, '') FROM inquiries WHERE id > ",
        );
        q.push_bind(after);
        if only_missing {
            q.push(" AND ").push(SEARCH_MISSING);
        }
        q.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
        let inquiries: Vec<Texts> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let Some(last) = inquiries.last().map(|i| i.0) else {
            return Ok((0, 0));
        };
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT inquiry_id, body FROM messages WHERE kind <> 'acknowledgement' AND inquiry_id IN (",
        );
        let mut ids = q.separated(", ");
        for i in &inquiries {
            ids.push_bind(i.0);
        }
        q.push(") ORDER BY inquiry_id, id");
        let bodies: Vec<(i64, String)> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut by_inquiry: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, body) in bodies {
            by_inquiry.entry(id).or_default().push(body);
        }
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for (id, tenant, name, email, phone, subject) in &inquiries {
            let mut texts = vec![
                name.as_str(),
                email.as_str(),
                phone.as_str(),
                subject.as_str(),
            ];
            if let Some(bodies) = by_inquiry.get(id) {
                texts.extend(bodies.iter().map(String::as_str));
            }
            search_add(&mut tx, *id, *tenant, &texts).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok((inquiries.len() as u64, last))
    }

    async fn count_matching(&self, tenant: TenantId, filter: &InquiryFilter) -> Result<i64> {
        if let Some(query) = search_query(filter) {
            // Counted span by span up to the cap: "200 or more" is all a person needs (the
            // inbox's first page takes the count from its ranked window instead).
            let mut counted = 0;
            let frequent = self.frequent_terms().await?;
            let mut tx = search_transaction(&self.pool).await?;
            for span in search_spans(&mut tx, filter, None).await? {
                let head = "SELECT COUNT(*) FROM (SELECT 1";
                let Some(mut q) = search_select(head, tenant, &query, filter, span, &frequent)
                else {
                    return Ok(0);
                };
                q.push(" LIMIT ")
                    .push_bind(torg_store::SEARCH_COUNT_CAP - counted)
                    .push(") AS hits");
                let n: i64 = q
                    .build_query_scalar()
                    .persistent(false)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                counted += n;
                if counted >= torg_store::SEARCH_COUNT_CAP {
                    break;
                }
            }
            return Ok(counted);
        }
        let mut q: QueryBuilder<Db> =
            QueryBuilder::new("SELECT COUNT(*) FROM inquiries WHERE tenant_id = ");
        q.push_bind(tenant.get());
        if !push_filter(&mut q, filter) {
            return Ok(0);
        }
        q.build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn count_inquiries(&self, tenant: TenantId) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM inquiries WHERE tenant_id = $1")
            .bind(tenant.get())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn messages(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        include_notes: bool,
    ) -> Result<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages \
             WHERE tenant_id = $1 AND inquiry_id = $2 AND (kind <> 'note' OR $3 = 1) ORDER BY id",
        )
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .bind(i64::from(include_notes))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut by_message: HashMap<i64, Vec<AttachmentMeta>> = HashMap::new();
        for a in self.attachments(tenant, inquiry_id).await? {
            by_message.entry(a.message_id).or_default().push(a);
        }
        rows.into_iter()
            .map(|r| {
                let atts = by_message.remove(&r.id).unwrap_or_default();
                r.into_message(atts)
            })
            .collect()
    }

    async fn threads(
        &self,
        tenant: TenantId,
        inquiry_ids: &[InquiryId],
    ) -> Result<HashMap<InquiryId, Vec<Message>>> {
        let mut by_inquiry: HashMap<InquiryId, Vec<Message>> = HashMap::new();
        // Bounded statements: a page is far below this, and both databases take it.
        for ids in inquiry_ids.chunks(500) {
            let in_ids = |q: &mut QueryBuilder<Db>| {
                q.push(" AND inquiry_id IN (");
                let mut list = q.separated(", ");
                for id in ids {
                    list.push_bind(id.get());
                }
                list.push_unseparated(")");
            };
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages WHERE tenant_id = ",
            );
            q.push_bind(tenant.get());
            in_ids(&mut q);
            q.push(" AND kind <> 'note' ORDER BY inquiry_id, id");
            let messages: Vec<MessageRow> = q
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE tenant_id = ",
            );
            q.push_bind(tenant.get());
            in_ids(&mut q);
            q.push(" ORDER BY id");
            let attachments: Vec<AttachmentRow> = q
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
            by_inquiry.extend(group_threads(messages, attachments)?);
        }
        Ok(by_inquiry)
    }

    async fn add_message(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        new: NewMessage,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Message> {
        let terms = message_terms(new.kind, &new.body);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let current: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT status, first_answer_at, merged_into FROM inquiries WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some((mut status, mut first_answer_at, merged_into)) = current else {
            return Err(StoreError::NotFound("inquiry"));
        };
        // A merged inquiry's messages move the status of the one it was merged into.
        let status_of = merged_into.unwrap_or(inquiry_id.get());
        if let Some(primary) = merged_into {
            (status, first_answer_at) = sqlx::query_as(
                "SELECT status, first_answer_at FROM inquiries WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.get())
            .bind(primary)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            sqlx::query("UPDATE inquiries SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(new.created_at.as_millisecond())
                .bind(tenant.get())
                .bind(inquiry_id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let status: InquiryStatus = status
            .parse()
            .map_err(|_| StoreError::Database(format!("unknown status {status:?}")))?;
        let at = new.created_at.as_millisecond();
        let id =
            insert_message_row(&mut tx, tenant.get(), inquiry_id.get(), &new, &terms, at).await?;
        if let Some(out) = &new.outgoing {
            insert_outgoing(
                &mut tx,
                tenant.get(),
                Some(inquiry_id.get()),
                Some(id),
                out,
                at,
                None,
            )
            .await?;
        }
        let attachments = insert_attachments(
            &mut tx,
            tenant.get(),
            inquiry_id.get(),
            id,
            &new.attachments,
        )
        .await?;
        let (next, first_answer) = match new.kind {
            MessageKind::Inbound => (status.after_citizen_message(), first_answer_at),
            MessageKind::Outbound => (status.after_staff_reply(), first_answer_at.or(Some(at))),
            // Notes and the automatic acknowledgement are not answers.
            MessageKind::Note | MessageKind::Acknowledgement => (status, first_answer_at),
        };
        sqlx::query(
            "UPDATE inquiries SET status = $1, first_answer_at = $2, updated_at = $3, \
             closed_at = CASE WHEN $1 = 'closed' THEN closed_at ELSE NULL END WHERE tenant_id = $4 AND id = $5",
        )
        .bind(next.as_str())
        .bind(first_answer)
        .bind(at)
        .bind(tenant.get())
        .bind(status_of)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, new.created_at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Message {
            id,
            inquiry_id,
            kind: new.kind,
            author_user_id: new.author_user_id,
            author_name: new.author_name,
            body: new.body,
            created_at: ts(at),
            attachments,
        })
    }

    async fn merge_inquiries(
        &self,
        tenant: TenantId,
        primary: InquiryId,
        others: &[InquiryId],
        at: Timestamp,
        notices: Vec<(InquiryId, NewMessage)>,
        audit: Vec<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        if others.contains(&primary) {
            return Err(StoreError::Conflict(
                "an inquiry is not merged into itself".into(),
            ));
        }
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut earliest_open: Option<i64> = None;
        let mut any_open = false;
        for id in std::iter::once(&primary).chain(others) {
            let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT status, deadline_at, merged_into FROM inquiries WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.get())
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let Some((status, deadline, merged)) = row else {
                return Err(StoreError::NotFound("inquiry"));
            };
            let twice = others.iter().filter(|o| *o == id).count() > 1;
            if merged.is_some() || twice {
                return Err(StoreError::Conflict(format!(
                    "inquiry {id} is merged already"
                )));
            }
            if status != "closed" {
                any_open = true;
                earliest_open = Some(earliest_open.map_or(deadline, |e| e.min(deadline)));
            }
        }
        let at = at.as_millisecond();
        for id in others {
            // What was merged into it follows it.
            sqlx::query(
                "UPDATE inquiries SET merged_into = $1 WHERE tenant_id = $2 AND merged_into = $3",
            )
            .bind(primary.get())
            .bind(tenant.get())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // Only if nobody merged it meanwhile (a second merge waits for the row and
            // then finds it merged).
            let merged = sqlx::query(
                "UPDATE inquiries SET merged_into = $1, status = 'closed', \
                 closed_at = COALESCE(closed_at, $2), updated_at = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND merged_into IS NULL",
            )
            .bind(primary.get())
            .bind(at)
            .bind(tenant.get())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if merged == 0 {
                return Err(StoreError::Conflict(format!(
                    "inquiry {id} is merged already"
                )));
            }
        }
        let still_primary = sqlx::query(
            "UPDATE inquiries SET updated_at = $1 WHERE tenant_id = $2 AND id = $3 AND merged_into IS NULL",
        )
        .bind(at)
        .bind(tenant.get())
        .bind(primary.get())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if still_primary == 0 {
            return Err(StoreError::Conflict(format!(
                "inquiry {primary} is merged already"
            )));
        }
        if any_open {
            sqlx::query(
                "UPDATE inquiries SET deadline_at = $1, updated_at = $2, closed_at = NULL, \
                 status = CASE WHEN status = 'closed' THEN 'open' ELSE status END \
                 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(earliest_open)
            .bind(at)
            .bind(tenant.get())
            .bind(primary.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for (inquiry, notice) in notices {
            let terms = message_terms(notice.kind, &notice.body);
            let id = insert_message_row(&mut tx, tenant.get(), inquiry.get(), &notice, &terms, at)
                .await?;
            if let Some(out) = &notice.outgoing {
                insert_outgoing(
                    &mut tx,
                    tenant.get(),
                    Some(inquiry.get()),
                    Some(id),
                    out,
                    at,
                    None,
                )
                .await?;
            }
        }
        for entry in audit {
            insert_audit(&mut tx, tenant.get(), entry, ts(at)).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn split_message(
        &self,
        from: InquiryId,
        message_id: i64,
        new: NewInquiry,
        notice: NewMessage,
        audit: Vec<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Inquiry> {
        let tenant = new.tenant_id.get();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let kind: Option<String> = sqlx::query_scalar(
            "SELECT kind FROM messages WHERE tenant_id = $1 AND inquiry_id = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(from.get())
        .bind(message_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if kind.as_deref() != Some(MessageKind::Inbound.as_str()) {
            return Err(StoreError::NotFound("message"));
        }
        let inbound: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE tenant_id = $1 AND inquiry_id = $2 AND kind = 'inbound'",
        )
        .bind(tenant)
        .bind(from.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if inbound < 2 {
            return Err(StoreError::Conflict(
                "the inquiry's only message stays in it".into(),
            ));
        }
        let terms = torg_domain::search::terms(
            &[
                new.citizen_name.as_str(),
                new.contact_email.as_deref().unwrap_or_default(),
                new.contact_phone.as_deref().unwrap_or_default(),
                new.subject.as_deref().unwrap_or_default(),
                new.body.as_str(),
            ]
            .join("\n"),
        )
        .join(" ");
        let created = insert_batch(&mut tx, &[&new], &[&terms])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Database("the new inquiry was not made".into()))?
            .inquiry;
        // The message itself moves (with its Message-ID and files); the copy intake wrote
        // as the first message goes.
        sqlx::query(
            "DELETE FROM messages WHERE tenant_id = $1 AND inquiry_id = $2 AND kind = 'inbound'",
        )
        .bind(tenant)
        .bind(created.id.get())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE messages SET inquiry_id = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(created.id.get())
            .bind(tenant)
            .bind(message_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "UPDATE attachments SET inquiry_id = $1 WHERE tenant_id = $2 AND message_id = $3",
        )
        .bind(created.id.get())
        .bind(tenant)
        .bind(message_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let notice = NewMessage {
            body: notice
                .body
                .replace("{referanse}", &created.reference.to_string())
                .replace("{id}", &created.id.to_string()),
            ..notice
        };
        let at = notice.created_at.as_millisecond();
        let id = insert_message_row(&mut tx, tenant, from.get(), &notice, "", at).await?;
        if let Some(out) = &notice.outgoing {
            insert_outgoing(&mut tx, tenant, Some(from.get()), Some(id), out, at, None).await?;
        }
        // The search row of what is left.
        let (name, email, phone, subject): (String, String, String, String) = sqlx::query_as(
            "SELECT citizen_name, COALESCE(contact_email, ''), COALESCE(contact_phone, ''), \
             COALESCE(subject, '') FROM inquiries WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(from.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM messages WHERE tenant_id = $1 AND inquiry_id = $2 \
             AND kind <> 'acknowledgement' ORDER BY id",
        )
        .bind(tenant)
        .bind(from.get())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut texts = vec![
            name.as_str(),
            email.as_str(),
            phone.as_str(),
            subject.as_str(),
        ];
        texts.extend(bodies.iter().map(String::as_str));
        search_add(&mut tx, from.get(), tenant, &texts).await?;
        for entry in audit {
            insert_audit(&mut tx, tenant, entry, notice.created_at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn merged_into(&self, tenant: TenantId, primary: InquiryId) -> Result<Vec<InquiryId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM inquiries WHERE tenant_id = $1 AND merged_into = $2 ORDER BY received_at, id",
        )
        .bind(tenant.get())
        .bind(primary.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(InquiryId).collect())
    }

    async fn assign(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        unit_id: UnitId,
        assignee_id: Option<UserId>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit_id.get()).await?;
        if let Some(user) = assignee_id {
            require_in_tenant(&mut *tx, Owned::User, tenant.get(), user.get()).await?;
        }
        let done = sqlx::query("UPDATE inquiries SET unit_id = $1, assignee_id = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
            .bind(unit_id.get())
            .bind(assignee_id.map(i64::from))
            .bind(Timestamp::now().as_millisecond())
            .bind(tenant.get())
            .bind(inquiry_id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("inquiry"));
        }
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, Timestamp::now()).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn take_over(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        user_id: UserId,
        at: Timestamp,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::User, tenant.get(), user_id.get()).await?;
        let done = sqlx::query(
            "UPDATE inquiries SET assignee_id = $1, updated_at = $2, \
             status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE tenant_id = $3 AND id = $4",
        )
        .bind(user_id.get())
        .bind(at.as_millisecond())
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("inquiry"));
        }
        insert_audit(&mut tx, tenant.get(), audit, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn set_status(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
        status: InquiryStatus,
        at: Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let at_ms = at.as_millisecond();
        let closed_at = (status == InquiryStatus::Closed).then_some(at_ms);
        let done = sqlx::query("UPDATE inquiries SET status = $1, closed_at = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
            .bind(status.as_str())
            .bind(closed_at)
            .bind(at_ms)
            .bind(tenant.get())
            .bind(inquiry_id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("inquiry"));
        }
        if status == InquiryStatus::Closed {
            super::evaluation::start_survey(&mut tx, tenant.get(), inquiry_id.get(), at).await?;
        }
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn attachments(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Vec<AttachmentMeta>> {
        let rows: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE tenant_id = $1 AND inquiry_id = $2 ORDER BY id",
        )
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn attachment_data(
        &self,
        tenant: TenantId,
        attachment_id: i64,
    ) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        let row: Option<(i64, i64, i64, String, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, inquiry_id, message_id, filename, content_type, size, data FROM attachments WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.get())
        .bind(attachment_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(
            |(id, inquiry_id, message_id, filename, content_type, size, data)| {
                (
                    AttachmentMeta {
                        id,
                        inquiry_id: InquiryId(inquiry_id),
                        message_id,
                        filename,
                        content_type,
                        size,
                    },
                    data,
                )
            },
        ))
    }
}
