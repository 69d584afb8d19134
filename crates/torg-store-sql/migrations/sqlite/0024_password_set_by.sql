-- Who set a user's current password when an administrator did: that administrator may not
-- then give the user more access (the two-step way to sign in as someone who reaches more).
ALTER TABLE users ADD COLUMN password_set_by INTEGER;
