-- A project's app URL (issue 12): the hosted pages' "Back to <project>" link. NULL: no link.
-- Checked before it is written (an absolute https URL, http only for loopback; at most 2048
-- bytes): see ProjectSettings::app_url.
ALTER TABLE projects ADD COLUMN app_url TEXT;
