/**
 * Bitrix24's own lead-import sample file (crm.lead.import "getSample=csv"), rebuilt from the crm module's public
 * sources: the header is $arResult['HEADERS'] in component.php order (ID, the name and address columns, every
 * TYPE_VALUETYPE pair CCrmFieldMulti::ListAddHeaders adds, then company … responsible), each name as the
 * language files give it; every cell is quoted and followed by ';' (so the line ends with a delimiter), after a
 * UTF-8 BOM. The sample's demo row (Веб-сервис / Евгений Никифоров / evgeny@yahoo.com …) carries no ID: an
 * update needs one, so the rows here give lead IDs, as a user filling the template for an update does.
 */

/** [field id, ru name, en name] in the sample's column order. */
export const SAMPLE_COLUMNS: ReadonlyArray<readonly [string, string, string]> = [
  ['ID', 'ID', 'ID'],
  ['TITLE', 'Название лида', 'Lead Name'],
  ['HONORIFIC', 'Обращение', 'Salutation'],
  ['NAME', 'Имя', 'First Name'],
  ['LAST_NAME', 'Фамилия', 'Last Name'],
  ['SECOND_NAME', 'Отчество', 'Middle Name'],
  ['FULL_NAME', 'Имя, Фамилия', 'First And Last Names'],
  ['BIRTHDATE', 'Дата рождения', 'Date of birth'],
  ['FULL_ADDRESS', 'Адрес', 'Address'],
  ['ADDRESS', 'Улица', 'Street'],
  ['ADDRESS_2', 'Квартира', 'Apartment / Suite'],
  ['ADDRESS_CITY', 'Город', 'City'],
  ['ADDRESS_REGION', 'Район', 'Region'],
  ['ADDRESS_PROVINCE', 'Область', 'State / Province'],
  ['ADDRESS_POSTAL_CODE', 'Индекс', 'Zip'],
  ['ADDRESS_COUNTRY', 'Страна', 'Country'],
  ['PHONE_WORK', 'Рабочий телефон', 'Work Phone'],
  ['PHONE_MOBILE', 'Мобильный телефон', 'Mobile'],
  ['PHONE_FAX', 'Номер факса', 'Fax'],
  ['PHONE_HOME', 'Домашний телефон', 'Home Phone'],
  ['PHONE_PAGER', 'Номер пейджера', 'Pager Number'],
  ['PHONE_MAILING', 'Телефон для рассылок', 'SMS marketing phone'],
  ['PHONE_OTHER', 'Другой телефон', 'Other Phone Number'],
  ['WEB_WORK', 'Корпоративный сайт', 'Corporate Website'],
  ['WEB_HOME', 'Личная страница', 'Personal Page'],
  ['WEB_FACEBOOK', 'Страница Facebook', 'Facebook Page'],
  ['WEB_VK', 'Страница ВКонтакте', 'VK Page'],
  ['WEB_LIVEJOURNAL', 'Страница LiveJournal', 'LiveJournal'],
  ['WEB_TWITTER', 'Микроблог Twitter', 'Twitter'],
  ['WEB_OTHER', 'Другой сайт', 'Other Website'],
  ['EMAIL_WORK', 'Рабочий e-mail', 'Work E-mail'],
  ['EMAIL_HOME', 'Частный e-mail', 'Home E-mail'],
  ['EMAIL_MAILING', 'E-mail для рассылок', 'Newsletters email'],
  ['EMAIL_OTHER', 'Другой e-mail', 'Other E-mail'],
  ['IM_FACEBOOK', 'Контакт Facebook', 'Facebook account'],
  ['IM_TELEGRAM', 'Контакт Telegram', 'Telegram account'],
  ['IM_VK', 'Контакт ВКонтакте', 'VK account'],
  ['IM_SKYPE', 'Контакт Skype', 'Skype ID'],
  ['IM_VIBER', 'Контакт Viber', 'Viber contact'],
  ['IM_INSTAGRAM', 'Комментарии Instagram', 'Instagram comments'],
  ['IM_BITRIX24', 'Контакт Битрикс24 Network', 'Bitrix24.Network account'],
  ['IM_OPENLINE', 'Онлайн-чат', 'Live Chat'],
  ['IM_IMOL', 'Контакт Открытая линия', 'Open Channel account'],
  ['IM_ICQ', 'Контакт ICQ', 'ICQ Number'],
  ['IM_MSN', 'Контакт MSN/Live!', 'MSN/Live!'],
  ['IM_JABBER', 'Контакт Jabber', 'Jabber'],
  ['IM_OTHER', 'Другой контакт', 'Other Contact'],
  ['LINK_USER', 'Связанный пользователь', 'Связанный пользователь'],
  ['COMPANY_TITLE', 'Название компании', 'Company Name'],
  ['POST', 'Должность', 'Position'],
  ['COMMENTS', 'Комментарий', 'Comment'],
  ['STATUS_ID', 'Статус', 'Stage'],
  ['STATUS_DESCRIPTION', 'Дополнительно о статусе', 'More about this stage'],
  ['PRODUCT_ID', 'Товар', 'Product'],
  ['PRODUCT_PRICE', 'Цена', 'Price'],
  ['PRODUCT_QUANTITY', 'Количество', 'Quantity'],
  ['OPPORTUNITY', 'Возможная сумма', 'Opportunity'],
  ['CURRENCY_ID', 'Валюта', 'Currency'],
  ['SOURCE_ID', 'Источник', 'Source'],
  ['SOURCE_DESCRIPTION', 'Дополнительно об источнике', 'Source information'],
  ['OPENED', 'Доступен для всех', 'Available to everyone'],
  ['ASSIGNED_BY_ID', 'Ответственный', 'Responsible person'],
];

/** The header cells of the sample in one language (without the trailing empty cell). */
export function sampleHeader(lang: 'ru' | 'en'): string[] {
  return SAMPLE_COLUMNS.map(([, ru, en]) => (lang === 'ru' ? ru : en));
}

/** One line as the sample writes it: every cell quoted and followed by ';'. */
function sampleLine(cells: readonly string[]): string {
  return cells.map((c) => `"${c.replaceAll('"', '""')}";`).join('');
}

/** The sample file's text (BOM, header, rows), rows given as field id → value. */
export function sampleFile(lang: 'ru' | 'en', rows: ReadonlyArray<Record<string, string>>): string {
  const lines = [sampleLine(sampleHeader(lang)), ...rows.map((r) => sampleLine(SAMPLE_COLUMNS.map(([id]) => r[id] ?? '')))];
  return `\uFEFF${lines.join('\n')}\n`;
}

/** The demo row of the Russian sample (component.php $arDemo with the ru language file), given a lead ID. */
export function demoRow(id: number, statusAndSource: { STATUS_ID: string; SOURCE_ID: string }): Record<string, string> {
  return {
    ID: String(id),
    TITLE: 'Веб-сервис',
    NAME: 'Евгений',
    LAST_NAME: 'Никифоров',
    POST: 'Фрилансер',
    ...statusAndSource,
    OPENED: 'Да',
    EMAIL_HOME: 'evgeny@yahoo.com',
    OPPORTUNITY: '10000.00',
    CURRENCY_ID: 'RUB',
  };
}
