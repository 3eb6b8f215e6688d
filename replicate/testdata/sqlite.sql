-- create Tasks with SourceName and SoftDelete
CREATE TABLE "PROD"."Tasks" ("SourceName" TEXT NOT NULL, "TaskId" TEXT NOT NULL, "PlanId" TEXT, "BucketId" TEXT, "Title" TEXT, "OrderHint" TEXT, "AssigneePriority" TEXT, "PercentComplete" INTEGER, "Priority" INTEGER, "StartDateTime" TEXT, "DueDateTime" TEXT, "CreatedDateTime" TEXT, "CompletedDateTime" TEXT, "CreatedByUserId" TEXT, "CreatedByApplicationId" TEXT, "CompletedByUserId" TEXT, "CompletedByApplicationId" TEXT, "HasDescription" INTEGER, "PreviewType" TEXT, "ReferenceCount" INTEGER, "ChecklistItemCount" INTEGER, "ActiveChecklistItemCount" INTEGER, "ConversationThreadId" TEXT, "Assignments" TEXT, "AppliedCategories" TEXT, "ETag" TEXT, "IsDeleted" INTEGER NOT NULL DEFAULT 0, "DeletedDateTime" TEXT, PRIMARY KEY ("SourceName", "TaskId"));

-- create TaskReferences (composite text key)
CREATE TABLE "TaskReferences" ("TaskId" TEXT NOT NULL, "PlanId" TEXT, "BucketId" TEXT, "Url" TEXT, "ReferenceKey" TEXT NOT NULL, "Alias" TEXT, "Type" TEXT, "PreviewPriority" TEXT, "LastModifiedDateTime" TEXT, "LastModifiedByUserId" TEXT, "LastModifiedByApplicationId" TEXT, PRIMARY KEY ("TaskId", "ReferenceKey"));

-- create with REAL and BLOB
CREATE TABLE "Other" ("Id" INTEGER NOT NULL, "F" REAL, "B" BLOB, PRIMARY KEY ("Id"));

-- hostile names
CREATE TABLE "s;c`h"""."t.a ""b"" `c` ü" ("Id]; DROP TABLE x; --" TEXT NOT NULL, "it's" TEXT, PRIMARY KEY ("Id]; DROP TABLE x; --"));

-- add column
ALTER TABLE "PROD"."Tasks" ADD COLUMN "NewCol" TEXT;

-- upsert 2 rows
INSERT INTO "PROD"."Tasks" ("SourceName", "TaskId", "Title", "DueDateTime") VALUES (?,?,?,?),(?,?,?,?) ON CONFLICT ("SourceName", "TaskId") DO UPDATE SET "Title" = excluded."Title", "DueDateTime" = excluded."DueDateTime";

-- upsert, every column a key
INSERT INTO "TaskReferences" ("TaskId", "Url") VALUES (?,?) ON CONFLICT ("TaskId", "Url") DO NOTHING;

-- delete 2 keys
DELETE FROM "PROD"."Tasks" WHERE "TaskId" IN (?,?);

-- delete 2 composite keys, scoped
DELETE FROM "TaskReferences" WHERE "SourceName" = ? AND ("TaskId", "Url") IN (VALUES (?,?),(?,?));

-- soft delete 2 keys, scoped
UPDATE "PROD"."Tasks" SET "IsDeleted" = ?, "DeletedDateTime" = ? WHERE "SourceName" = ? AND "TaskId" IN (?,?);

-- index a foreign key
CREATE INDEX IF NOT EXISTS "PROD"."Tasks_PlanId_idx" ON "Tasks" ("PlanId");

-- state table
CREATE TABLE "PROD"."planner_replicate_state" ("TableName" TEXT NOT NULL, "SourceName" TEXT NOT NULL, "Chunk" INTEGER NOT NULL, "Columns" TEXT NOT NULL, "RowCount" INTEGER NOT NULL, "Data" BLOB NOT NULL, "UpdatedDateTime" TEXT NOT NULL, "Tenant" TEXT, PRIMARY KEY ("TableName", "SourceName", "Chunk"));

-- planner_replicate_history table
CREATE TABLE "planner_replicate_history" ("Id" INTEGER PRIMARY KEY, "Statement" TEXT, "TableName" TEXT, "SourceName" TEXT, "StartDateTime" TEXT, "EndDateTime" TEXT, "Inserted" INTEGER, "Updated" INTEGER, "Deleted" INTEGER, "Unchanged" INTEGER, "Status" TEXT, "Error" TEXT, "Warnings" TEXT, "RunId" TEXT, "Requests" INTEGER, "Throttled" INTEGER);
CREATE INDEX "planner_replicate_history_run" ON "planner_replicate_history" ("RunId");

-- planner_replicate_runs table
CREATE TABLE "PROD"."planner_replicate_runs" ("RunId" TEXT NOT NULL PRIMARY KEY, "LockKey" TEXT NOT NULL, "Job" TEXT, "Destination" TEXT, "SchemaName" TEXT, "TablePrefix" TEXT, "SourceName" TEXT, "Host" TEXT, "Pid" INTEGER, "Slot" TEXT, "Attempt" INTEGER, "StartDateTime" TEXT NOT NULL, "EndDateTime" TEXT, "Status" TEXT NOT NULL, "Error" TEXT, "Tables" INTEGER, "Failed" INTEGER, "Inserted" INTEGER, "Updated" INTEGER, "Deleted" INTEGER, "Unchanged" INTEGER, "Requests" INTEGER, "Throttled" INTEGER, "TableSchemas" TEXT, "Log" TEXT);
CREATE INDEX "PROD"."planner_replicate_runs_start" ON "planner_replicate_runs" ("StartDateTime");
CREATE INDEX "PROD"."planner_replicate_runs_lock" ON "planner_replicate_runs" ("LockKey", "Status");

-- lock table
CREATE TABLE "planner_replicate_lock" ("LockKey" TEXT NOT NULL PRIMARY KEY, "RunId" TEXT NOT NULL, "Job" TEXT, "Host" TEXT NOT NULL, "HostId" TEXT NOT NULL, "Pid" INTEGER NOT NULL, "StartDateTime" TEXT NOT NULL, "HeartbeatDateTime" TEXT NOT NULL, "ExpiresDateTime" TEXT NOT NULL);

-- staged upsert
INSERT INTO "PROD"."Tasks" ("SourceName", "TaskId", "Title") SELECT c1, c2, c3 FROM temp.stage WHERE true ON CONFLICT ("SourceName", "TaskId") DO UPDATE SET "Title" = excluded."Title";

