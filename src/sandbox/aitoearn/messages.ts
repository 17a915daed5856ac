/** The sandbox AiToEarn's business messages, in the two languages the real server speaks. */
export type Lang = 'en-US' | 'zh-CN'

const MESSAGES: Record<number, Record<Lang, string>> = {
  0: { 'en-US': 'Request succeeded', 'zh-CN': '请求成功' },
  401: { 'en-US': 'Unauthorized', 'zh-CN': '未认证或 API Key 无效' },
  10002: { 'en-US': 'Validation failed: {{detail}}', 'zh-CN': '参数验证失败: {{detail}}' },
  12600: { 'en-US': 'Account not found', 'zh-CN': '账号未找到' },
  15040: { 'en-US': 'Authorized platform mismatch', 'zh-CN': '授权平台不匹配' },
  15079: { 'en-US': '{{platform}} work was not found', 'zh-CN': '未找到 {{platform}} 作品' },
  15080: { 'en-US': '{{platform}} does not support this operation', 'zh-CN': '{{platform}} 不支持该操作' },
  15088: { 'en-US': '{{platform}} does not support this pagination mode', 'zh-CN': '{{platform}} 不支持该分页模式' },
  15089: { 'en-US': '{{platform}} limit must not exceed {{max}}', 'zh-CN': '{{platform}} 每页数量不能超过 {{max}}' },
  15091: { 'en-US': '{{platform}} does not support previous page', 'zh-CN': '{{platform}} 不支持上一页' }
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
