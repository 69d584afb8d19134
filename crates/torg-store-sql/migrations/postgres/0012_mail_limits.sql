-- Mail limits: attachment types a municipality does not take in, and automatic notices (the
-- polite answer to an oversized or refused message) sent through the outbox without an inquiry.

ALTER TABLE mail_accounts ADD COLUMN blocked_extensions TEXT NOT NULL
    DEFAULT 'bat,cmd,com,cpl,dll,exe,hta,iso,jar,js,jse,lnk,msi,ps1,scr,vbe,vbs,wsf';

ALTER TABLE outbox ALTER COLUMN inquiry_id DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN body TEXT;
ALTER TABLE outbox ADD CONSTRAINT outbox_has_text CHECK (message_id IS NOT NULL OR body IS NOT NULL);
