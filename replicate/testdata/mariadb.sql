-- create Tasks with SourceName and SoftDelete
CREATE TABLE `PROD`.`Tasks` (`SourceName` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `TaskId` VARCHAR(704) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `PlanId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `BucketId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `Title` MEDIUMTEXT, `OrderHint` MEDIUMTEXT, `AssigneePriority` MEDIUMTEXT, `PercentComplete` BIGINT, `Priority` BIGINT, `StartDateTime` DATETIME(6), `DueDateTime` DATETIME(6), `CreatedDateTime` DATETIME(6), `CompletedDateTime` DATETIME(6), `CreatedByUserId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `CreatedByApplicationId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `CompletedByUserId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `CompletedByApplicationId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `HasDescription` BOOLEAN, `PreviewType` MEDIUMTEXT, `ReferenceCount` BIGINT, `ChecklistItemCount` BIGINT, `ActiveChecklistItemCount` BIGINT, `ConversationThreadId` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `Assignments` JSON, `AppliedCategories` JSON, `ETag` MEDIUMTEXT, `IsDeleted` BOOLEAN NOT NULL DEFAULT 0, `DeletedDateTime` DATETIME(6), PRIMARY KEY (`SourceName`, `TaskId`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- create TaskReferences (composite text key)
CREATE TABLE `TaskReferences` (`TaskId` VARCHAR(384) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `PlanId` MEDIUMTEXT, `BucketId` MEDIUMTEXT, `Url` MEDIUMTEXT, `ReferenceKey` VARCHAR(384) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `Alias` MEDIUMTEXT, `Type` MEDIUMTEXT, `PreviewPriority` MEDIUMTEXT, `LastModifiedDateTime` DATETIME(6), `LastModifiedByUserId` MEDIUMTEXT, `LastModifiedByApplicationId` MEDIUMTEXT, PRIMARY KEY (`TaskId`, `ReferenceKey`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- create with REAL and BLOB
CREATE TABLE `Other` (`Id` BIGINT NOT NULL, `F` DOUBLE, `B` LONGBLOB, PRIMARY KEY (`Id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- hostile names
CREATE TABLE `s;c``h"`.`t.a "b" ``c`` ü` (`Id]; DROP TABLE x; --` VARCHAR(768) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `it's` JSON, PRIMARY KEY (`Id]; DROP TABLE x; --`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- add column
ALTER TABLE `PROD`.`Tasks` ADD COLUMN `NewCol` DATETIME(6);

-- upsert 2 rows
INSERT INTO `PROD`.`Tasks` (`SourceName`, `TaskId`, `Title`, `DueDateTime`) VALUES (?,?,?,?),(?,?,?,?) ON DUPLICATE KEY UPDATE `Title` = VALUES(`Title`), `DueDateTime` = VALUES(`DueDateTime`);

-- upsert, every column a key
INSERT INTO `TaskReferences` (`TaskId`, `Url`) VALUES (?,?) ON DUPLICATE KEY UPDATE `TaskId` = `TaskId`;

-- delete 2 keys
DELETE FROM `PROD`.`Tasks` WHERE `TaskId` IN (?,?);

-- delete 2 composite keys, scoped
DELETE FROM `TaskReferences` WHERE `SourceName` = ? AND (`TaskId`, `Url`) IN ((?,?),(?,?));

-- soft delete 2 keys, scoped
UPDATE `PROD`.`Tasks` SET `IsDeleted` = ?, `DeletedDateTime` = ? WHERE `SourceName` = ? AND `TaskId` IN (?,?);

-- index a foreign key
CREATE INDEX `Tasks_PlanId_idx` ON `PROD`.`Tasks` (`PlanId`);

-- state table
CREATE TABLE `PROD`.`planner_replicate_state` (`TableName` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `SourceName` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `Chunk` BIGINT NOT NULL, `Columns` MEDIUMTEXT NOT NULL, `RowCount` BIGINT NOT NULL, `Data` LONGBLOB NOT NULL, `UpdatedDateTime` DATETIME(6) NOT NULL, `Tenant` MEDIUMTEXT, PRIMARY KEY (`TableName`, `SourceName`, `Chunk`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- planner_replicate_history table
CREATE TABLE `planner_replicate_history` (`Id` BIGINT AUTO_INCREMENT PRIMARY KEY, `Statement` MEDIUMTEXT, `TableName` MEDIUMTEXT, `SourceName` MEDIUMTEXT, `StartDateTime` DATETIME(6), `EndDateTime` DATETIME(6), `Inserted` BIGINT, `Updated` BIGINT, `Deleted` BIGINT, `Unchanged` BIGINT, `Status` MEDIUMTEXT, `Error` MEDIUMTEXT, `Warnings` MEDIUMTEXT, `RunId` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `Requests` BIGINT, `Throttled` BIGINT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX `planner_replicate_history_run` ON `planner_replicate_history` (`RunId`);

-- planner_replicate_runs table
CREATE TABLE `PROD`.`planner_replicate_runs` (`RunId` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, `LockKey` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `Job` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `Destination` MEDIUMTEXT, `SchemaName` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `TablePrefix` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `SourceName` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin, `Host` MEDIUMTEXT, `Pid` BIGINT, `Slot` DATETIME(6), `Attempt` BIGINT, `StartDateTime` DATETIME(6) NOT NULL, `EndDateTime` DATETIME(6), `Status` VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, `Error` MEDIUMTEXT, `Tables` BIGINT, `Failed` BIGINT, `Inserted` BIGINT, `Updated` BIGINT, `Deleted` BIGINT, `Unchanged` BIGINT, `Requests` BIGINT, `Throttled` BIGINT, `TableSchemas` MEDIUMTEXT, `Log` MEDIUMTEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE INDEX `planner_replicate_runs_start` ON `PROD`.`planner_replicate_runs` (`StartDateTime`);
CREATE INDEX `planner_replicate_runs_lock` ON `PROD`.`planner_replicate_runs` (`LockKey`, `Status`);

