import { Migration } from '@mikro-orm/migrations';

/** Creates the attendance tables and their indexes (PostgreSQL and SQLite). */
export class AttendanceInitial extends Migration {
  override up(): void {
    const postgres = this.driver.getPlatform().constructor.name === 'PostgreSqlPlatform';
    for (const sql of postgres ? postgresql(this.config.get('schema') as string | undefined) : sqlite()) this.addSql(sql);
  }

  override down(): void {
    const postgres = this.driver.getPlatform().constructor.name === 'PostgreSqlPlatform';
    const q = postgres ? qualify(this.config.get('schema') as string | undefined) : (name: string) => `"${name}"`;
    for (const table of ['attendance_record', 'attendance_event', 'attendance_group_membership', 'attendance_group', 'attendance_member']) {
      this.addSql(`drop table if exists ${q(table)}`);
    }
  }
}

function qualify(schema: string | undefined): (name: string) => string {
  return (name) => `${schema ? `"${schema}".` : ''}"${name}"`;
}

function postgresql(schema: string | undefined): string[] {
  const q = qualify(schema);
  return [
    `create table ${q('attendance_member')} ("id" serial primary key, "name" varchar(255) not null, "created_at" timestamptz not null)`,
    `create table ${q('attendance_group')} ("id" serial primary key, "name" varchar(255) not null, "created_at" timestamptz not null)`,
    `create table ${q('attendance_group_membership')} ("id" serial primary key, "group_id" int not null, "member_id" int not null, "joined_at" timestamptz not null,
      constraint "attendance_group_membership_group_member_unique" unique ("group_id", "member_id"),
      constraint "attendance_group_membership_group_id_foreign" foreign key ("group_id") references ${q('attendance_group')} ("id") on update cascade,
      constraint "attendance_group_membership_member_id_foreign" foreign key ("member_id") references ${q('attendance_member')} ("id") on update cascade)`,
    `create index "attendance_group_membership_member_index" on ${q('attendance_group_membership')} ("member_id")`,
    `create table ${q('attendance_event')} ("id" serial primary key, "group_id" int not null, "title" varchar(255) not null,
      "starts_at" timestamptz not null, "fail_minutes" int not null, "attendance_closed_at" timestamptz null, "created_at" timestamptz not null,
      constraint "attendance_event_fail_minutes_check" check ("fail_minutes" >= 0),
      constraint "attendance_event_group_id_foreign" foreign key ("group_id") references ${q('attendance_group')} ("id") on update cascade)`,
    `create index "attendance_event_group_index" on ${q('attendance_event')} ("group_id")`,
    `create index "attendance_event_open_index" on ${q('attendance_event')} ("starts_at") where "attendance_closed_at" is null`,
    `create table ${q('attendance_record')} ("event_id" int not null, "member_id" int not null, "status" text check ("status" in ('UNCHECKED', 'PRESENT', 'LATE', 'ABSENT')) not null,
      "checked_at" timestamptz null, "overridden_at" timestamptz null,
      constraint "attendance_record_pkey" primary key ("event_id", "member_id"),
      constraint "attendance_record_event_id_foreign" foreign key ("event_id") references ${q('attendance_event')} ("id") on update cascade,
      constraint "attendance_record_member_id_foreign" foreign key ("member_id") references ${q('attendance_member')} ("id") on update cascade)`,
    `create index "attendance_record_member_index" on ${q('attendance_record')} ("member_id")`,
  ];
}

function sqlite(): string[] {
  return [
    'create table `attendance_member` (`id` integer not null primary key autoincrement, `name` text not null, `created_at` datetime not null)',
    'create table `attendance_group` (`id` integer not null primary key autoincrement, `name` text not null, `created_at` datetime not null)',
    'create table `attendance_group_membership` (`id` integer not null primary key autoincrement, `group_id` integer not null, `member_id` integer not null, `joined_at` datetime not null, ' +
      'constraint `attendance_group_membership_group_id_foreign` foreign key(`group_id`) references `attendance_group`(`id`) on update cascade, ' +
      'constraint `attendance_group_membership_member_id_foreign` foreign key(`member_id`) references `attendance_member`(`id`) on update cascade)',
    'create unique index `attendance_group_membership_group_member_unique` on `attendance_group_membership` (`group_id`, `member_id`)',
    'create index `attendance_group_membership_member_index` on `attendance_group_membership` (`member_id`)',
    'create table `attendance_event` (`id` integer not null primary key autoincrement, `group_id` integer not null, `title` text not null, ' +
      '`starts_at` datetime not null, `fail_minutes` integer not null, `attendance_closed_at` datetime null, `created_at` datetime not null, ' +
      'constraint `attendance_event_group_id_foreign` foreign key(`group_id`) references `attendance_group`(`id`) on update cascade, ' +
      'constraint attendance_event_fail_minutes_check check (fail_minutes >= 0))',
    'create index `attendance_event_group_index` on `attendance_event` (`group_id`)',
    // SQLite has partial indexes too; the job's query repeats the predicate so the planner can use it.
    'create index `attendance_event_open_index` on `attendance_event` (`starts_at`) where `attendance_closed_at` is null',
    'create table `attendance_record` (`event_id` integer not null, `member_id` integer not null, ' +
      "`status` text check (`status` in ('UNCHECKED', 'PRESENT', 'LATE', 'ABSENT')) not null, `checked_at` datetime null, `overridden_at` datetime null, " +
      'constraint `attendance_record_event_id_foreign` foreign key(`event_id`) references `attendance_event`(`id`) on update cascade, ' +
      'constraint `attendance_record_member_id_foreign` foreign key(`member_id`) references `attendance_member`(`id`) on update cascade, ' +
      'primary key (`event_id`, `member_id`))',
    'create index `attendance_record_member_index` on `attendance_record` (`member_id`)',
  ];
}
