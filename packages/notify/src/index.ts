export { InvalidNotifyOptionError, DeliveryError } from './errors.js';
export {
  composeNotification,
  dashboardLink,
  type MessageInput,
  type Notification,
  type NotificationKind,
  type NotificationRun,
} from './message.js';
export type { HttpNotifier, Notifier } from './notifier.js';
export { decideFailureMessage, type ReminderRule, type StreakFacts, type FailureDecision } from './streak.js';
export { DEFAULT_SIGNATURE_TOLERANCE_MS, signatureHeaders, verifyWebhookSignature, type SignatureCheck } from './signature.js';
export { backoffDelay, parseRetryAfter, type HttpDeliveryOptions } from './http.js';
export { createEmailNotifier, type EmailOptions, type SmtpServer } from './email.js';
export { createWebhookNotifier, type WebhookOptions } from './webhook.js';
export { createSlackNotifier, slackMessage, type SlackOptions } from './slack.js';
export {
  notify,
  type NotifyOptions,
  type NotifyHandlers,
  type NotifyFailureContext,
  type RecoveryContext,
  type DeadManContext,
} from './notify.js';
