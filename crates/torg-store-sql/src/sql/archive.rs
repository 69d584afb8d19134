//! The archive in SQL: decisions, extract pages, the public journal, journal numbers, moderation keywords, retention and the deletion log.

use super::shared::*;

#[async_trait]
impl Archive for This {
    async fn journal_numbers(
        &self,
        tenant: TenantId,
        wanted: &[(i64, i16)],
    ) -> Result<HashMap<i64, u64>> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        // Exports of one municipality number in turn.
        sqlx::query(LOCK_JOURNAL)
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut numbers: HashMap<i64, u64> = HashMap::new();
        for chunk in wanted.chunks(500) {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT message_id, sequence FROM journal_numbers WHERE tenant_id = ",
            );
            q.push_bind(tenant.get()).push(" AND message_id IN (");
            let mut list = q.separated(", ");
            for (id, _) in chunk {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            let rows: Vec<(i64, i64)> = q
                .build_query_as()
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            numbers.extend(rows.into_iter().map(|(id, n)| (id, n as u64)));
        }
        let mut last: HashMap<i16, i64> = HashMap::new();
        let mut new: Vec<(i64, i16, i64)> = Vec::new();
        for &(id, year) in wanted {
            if numbers.contains_key(&id) {
                continue;
            }
            let n = match last.get(&year) {
                Some(n) => *n,
                None => sqlx::query_scalar::<_, i64>(
                    "SELECT COALESCE(MAX(sequence), 0) FROM journal_numbers WHERE tenant_id = $1 AND year = $2",
                )
                .bind(tenant.get())
                .bind(i32::from(year))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?,
            } + 1;
            last.insert(year, n);
            numbers.insert(id, n as u64);
            new.push((id, year, n));
        }
        for chunk in new.chunks(500) {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO journal_numbers (tenant_id, message_id, year, sequence) ",
            );
            q.push_values(chunk, |mut row, (id, year, n)| {
                row.push_bind(tenant.get())
                    .push_bind(*id)
                    .push_bind(i32::from(*year))
                    .push_bind(*n);
            });
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(numbers)
    }

    async fn set_archive_record(
        &self,
        tenant: TenantId,
        r: &ArchiveRecord,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO archive_decisions (tenant_id, inquiry_id, decision, reasons, decided_by, decided_at, screening_basis, screen_names, public_title) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, inquiry_id) DO UPDATE SET \
             decision = excluded.decision, reasons = excluded.reasons, decided_by = excluded.decided_by, decided_at = excluded.decided_at, \
             screening_basis = excluded.screening_basis, screen_names = excluded.screen_names, public_title = excluded.public_title",
        )
        .bind(tenant.get())
        .bind(r.inquiry_id.get())
        .bind(r.decision.as_str())
        .bind(&r.reasons)
        .bind(r.decided_by.map(i64::from))
        .bind(r.decided_at.as_millisecond())
        .bind(r.screening.basis.map(|b| b.as_str()))
        .bind(i64::from(r.screening.names))
        .bind(r.screening.public_title.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, r.decided_at).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn archive_record(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Option<ArchiveRecord>> {
        let row: Option<ArchiveRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archive_decisions WHERE tenant_id = $1 AND inquiry_id = $2"
        )))
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn archive_cases(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        after_id: InquiryId,
        limit: u32,
    ) -> Result<Vec<ArchiveCase>> {
        let inquiries: Vec<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND received_at >= $2 AND received_at < $3 AND id > $4 \
             AND id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive') ORDER BY id LIMIT $5"
        )))
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .bind(after_id.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let (Some(first), Some(last)) = (
            inquiries.first().map(|i| i.id()),
            inquiries.last().map(|i| i.id()),
        ) else {
            return Ok(Vec::new());
        };
        // One query each for the page's records, messages and attachments.
        let in_range = "tenant_id = $1 AND inquiry_id >= $2 AND inquiry_id <= $3 \
             AND inquiry_id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive')";
        let records: Vec<ArchiveRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archive_decisions WHERE tenant_id = $1 AND inquiry_id >= $2 AND inquiry_id <= $3"
        )))
        .bind(tenant.get())
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages \
             WHERE {in_range} AND kind IN ('inbound', 'outbound') ORDER BY inquiry_id, id"
        )))
        .bind(tenant.get())
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let attachments: Vec<AttachmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE {in_range} ORDER BY id"
        )))
        .bind(tenant.get())
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut records = records
            .into_iter()
            .map(|r| ArchiveRecord::try_from(r).map(|r| (r.inquiry_id, r)))
            .collect::<Result<HashMap<InquiryId, ArchiveRecord>>>()?;
        let mut by_inquiry = group_threads(messages, attachments)?;
        inquiries
            .into_iter()
            .filter_map(|row| {
                let id = row.id();
                let record = records.remove(&InquiryId(id))?;
                Some(Inquiry::try_from(row).map(|inquiry| ArchiveCase {
                    inquiry,
                    record,
                    messages: by_inquiry.remove(&InquiryId(id)).unwrap_or_default(),
                }))
            })
            .collect()
    }

    async fn count_archive_cases(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM inquiries WHERE tenant_id = $1 AND received_at >= $2 AND received_at < $3 \
             AND id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive')",
        )
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n)
    }

    async fn journal_entries(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<JournalEntry>> {
        type Row = (
            i64,
            i64,
            i64,
            i64,
            String,
            i64,
            Option<String>,
            Option<String>,
            String,
            String,
            i64,
            String,
            i64,
            Option<String>,
            i64,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT m.id, m.inquiry_id, i.ref_year, i.ref_number, m.kind, m.created_at, i.subject, i.topic, i.preview, i.citizen_name, i.unit_id, \
             m.author_name, (SELECT COUNT(*) FROM attachments t WHERE t.tenant_id = m.tenant_id AND t.message_id = m.id), \
             a.screening_basis, a.screen_names, a.public_title \
             FROM messages m JOIN inquiries i ON i.tenant_id = m.tenant_id AND i.id = m.inquiry_id \
             JOIN archive_decisions a ON a.tenant_id = m.tenant_id AND a.inquiry_id = m.inquiry_id AND a.decision = 'archive' \
             WHERE m.tenant_id = $1 AND m.created_at >= $2 AND m.created_at < $3 AND m.kind IN ('inbound', 'outbound') \
             ORDER BY m.created_at DESC, m.id DESC LIMIT $4",
        )
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(
                |(
                    message_id,
                    inquiry_id,
                    year,
                    number,
                    kind,
                    created_at,
                    subject,
                    topic,
                    preview,
                    citizen_name,
                    unit_id,
                    author_name,
                    attachments,
                    basis,
                    names,
                    public_title,
                )| {
                    Ok(JournalEntry {
                        message_id,
                        inquiry_id: InquiryId(inquiry_id),
                        reference: Reference {
                            year: year as i16,
                            number,
                        },
                        kind: kind.parse().map_err(StoreError::Database)?,
                        date: ts(created_at),
                        subject,
                        topic,
                        preview,
                        citizen_name,
                        unit_id: UnitId(unit_id),
                        author_name,
                        attachments,
                        screening: torg_domain::archive::Screening {
                            basis: basis.as_deref().map(|b| b.parse()).transpose().map_err(
                                |e: torg_domain::archive::ArchiveError| {
                                    StoreError::Database(e.to_string())
                                },
                            )?,
                            names: names != 0,
                            public_title,
                        },
                    })
                },
            )
            .collect()
    }

    async fn undecided_closed(&self, tenant: TenantId, limit: u32) -> Result<Vec<InquirySummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND status = 'closed' \
             AND id NOT IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1) ORDER BY received_at DESC, id DESC LIMIT $2"
        )))
        .bind(tenant.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn moderation_keywords(&self, tenant: TenantId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT word FROM moderation_keywords WHERE tenant_id = $1 ORDER BY word",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(w,)| w).collect())
    }

    async fn set_moderation_keywords(
        &self,
        tenant: TenantId,
        words: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM moderation_keywords WHERE tenant_id = $1")
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for w in words {
            sqlx::query("INSERT INTO moderation_keywords (tenant_id, word) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(tenant.get())
                .bind(w)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn retention_days(&self, tenant: TenantId) -> Result<u32> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT retention_days FROM municipalities WHERE id = $1")
                .bind(tenant.get())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let (days,) = row.ok_or(StoreError::NotFound("municipality"))?;
        Ok(u32::try_from(days).unwrap_or(365))
    }

    async fn set_retention_days(
        &self,
        tenant: TenantId,
        days: u32,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query("UPDATE municipalities SET retention_days = $2 WHERE id = $1")
            .bind(tenant.get())
            .bind(i64::from(days))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("municipality"));
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn retention_candidates(
        &self,
        tenant: TenantId,
        closed_before: Timestamp,
        after_id: InquiryId,
        limit: u32,
    ) -> Result<Vec<RetentionCandidate>> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, i64, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT i.id, i.closed_at, a.decision, i.topic, i.subject FROM inquiries i \
             LEFT JOIN archive_decisions a ON a.tenant_id = i.tenant_id AND a.inquiry_id = i.id \
             WHERE i.tenant_id = $1 AND i.status = 'closed' AND i.closed_at < $2 AND i.id > $3 \
             AND (a.decision IS NULL OR a.decision <> 'archive') ORDER BY i.id LIMIT $4",
        )
        .bind(tenant.get())
        .bind(closed_before.as_millisecond())
        .bind(after_id.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, closed_at, decision, topic, subject)| {
                Ok(RetentionCandidate {
                    id: InquiryId(id),
                    closed_at: ts(closed_at),
                    topic,
                    subject,
                    decision: decision.as_deref().map(str::parse).transpose().map_err(
                        |e: torg_domain::archive::ArchiveError| StoreError::Database(e.to_string()),
                    )?,
                })
            })
            .collect()
    }

    async fn delete_inquiries(
        &self,
        tenant: TenantId,
        ids: &[InquiryId],
        reason: &str,
        at: Timestamp,
    ) -> Result<Vec<DeletionRecord>> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut deleted = Vec::new();
        for &id in ids {
            let row: Option<(i64, i64, String, i64, Option<i64>, i64, i64)> = sqlx::query_as(
                "SELECT i.ref_year, i.ref_number, i.channel, i.received_at, i.closed_at, \
                 (SELECT COUNT(*) FROM messages m WHERE m.tenant_id = i.tenant_id AND m.inquiry_id = i.id), \
                 (SELECT COUNT(*) FROM attachments t WHERE t.tenant_id = i.tenant_id AND t.inquiry_id = i.id) \
                 FROM inquiries i WHERE i.tenant_id = $1 AND i.id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM archive_decisions a WHERE a.tenant_id = i.tenant_id AND a.inquiry_id = i.id AND a.decision = 'archive')",
            )
            .bind(tenant.get())
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let Some((year, number, channel, received_at, closed_at, messages, attachments)) = row
            else {
                continue;
            };
            for table in ["outbox", "attachments", "messages", "archive_decisions"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND inquiry_id = $2"
                )))
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            // The survey's score stays in the figures; its comment goes with the inquiry.
            sqlx::query(
                "UPDATE surveys SET inquiry_id = NULL, comment = '', token_hash = NULL \
                 WHERE tenant_id = $1 AND inquiry_id = $2",
            )
            .bind(tenant.get())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            sqlx::query(SEARCH_REMOVE)
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM inquiries WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let record = DeletionRecord {
                reference: Reference {
                    year: year as i16,
                    number,
                }
                .to_string(),
                channel: channel
                    .parse()
                    .map_err(|e: torg_domain::channel::UnknownChannel| {
                        StoreError::Database(e.to_string())
                    })?,
                received_at: ts(received_at),
                closed_at: closed_at.map(ts),
                deleted_at: at,
                messages,
                attachments,
                reason: reason.to_string(),
            };
            sqlx::query(
                "INSERT INTO deletion_log (tenant_id, reference, channel, received_at, closed_at, deleted_at, messages, attachments, reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant.get())
            .bind(&record.reference)
            .bind(record.channel.as_str())
            .bind(received_at)
            .bind(closed_at)
            .bind(at.as_millisecond())
            .bind(messages)
            .bind(attachments)
            .bind(reason)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            deleted.push(record);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn deletion_log(&self, tenant: TenantId, limit: u32) -> Result<Vec<DeletionRecord>> {
        let rows: Vec<DeletionRow> = sqlx::query_as(
            "SELECT reference, channel, received_at, closed_at, deleted_at, messages, attachments, reason FROM deletion_log \
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
