/**
 * The sandbox AiToEarn's messages, as the real server words them (libs/common/src/i18n/messages.ts,
 * `{{platform}}` filled from `data.platform`). Success is always `请求成功`, in every language
 * (libs/common/src/interceptors/response.interceptor.ts); errors follow Accept-Language, en-US by
 * default (request-context.interceptor.ts).
 */
export type Lang = 'en-US' | 'zh-CN'

export const SUCCESS_MESSAGE = '请求成功'

const MESSAGES: Record<number, Record<Lang, string>> = {
  // Validation failures are code 400 with one fixed message and data {} (exception.util.ts);
  // the zod issues are never returned.
  400: { 'en-US': 'Validation failed', 'zh-CN': 'Validation failed' },
  401: { 'en-US': 'Unauthorized', 'zh-CN': 'Unauthorized' },
  404: { 'en-US': 'Cannot GET {{path}}', 'zh-CN': 'Cannot GET {{path}}' },
  500: { 'en-US': 'Internal server error', 'zh-CN': 'Internal server error' },
  12600: { 'en-US': 'Account not found', 'zh-CN': '账号未找到' },
  15001: { 'en-US': 'Account is not authorized. Please re-authorize the account.', 'zh-CN': '账号未授权，请重新授权' },
  15006: { 'en-US': 'Account credential not found. Please re-authorize the account.', 'zh-CN': '账号凭证不存在，请重新授权' },
  15032: { 'en-US': 'Platform not supported for update published post', 'zh-CN': '暂不支持该平台' },
  15040: { 'en-US': 'Authorization platform does not match', 'zh-CN': '授权平台不匹配' },
  15070: { 'en-US': '{{platform}} platform API request failed', 'zh-CN': '{{platform}} 平台接口请求失败' },
  15074: { 'en-US': '{{platform}} media processing failed', 'zh-CN': '{{platform}} 媒体处理失败' },
  15079: { 'en-US': '{{platform}} work was not found', 'zh-CN': '未找到 {{platform}} 作品' },
  15080: { 'en-US': '{{platform}} does not support this operation', 'zh-CN': '{{platform}} 不支持该操作' },
  15088: { 'en-US': '{{platform}} does not support this pagination mode', 'zh-CN': '{{platform}} 不支持该分页模式' },
  15089: { 'en-US': '{{platform}} pagination limit exceeds the maximum', 'zh-CN': '{{platform}} 分页数量超过上限' },
  15091: { 'en-US': '{{platform}} does not support this pagination direction', 'zh-CN': '{{platform}} 不支持该分页方向' }
}

/** en-US unless the caller prefers Chinese, as the real server decides. */
export function pickLang (header: string | string[] | undefined): Lang {
  const value = Array.isArray(header) ? header[0] : header
  return value?.trim().toLowerCase().startsWith('zh') ? 'zh-CN' : 'en-US'
}

export function message (code: number, lang: Lang, vars: Record<string, string | number> = {}): string {
  const template = MESSAGES[code]?.[lang] ?? `Error ${code}`
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(vars[name] ?? ''))
}
