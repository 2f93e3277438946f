/**
 * The column titles Bitrix24 itself writes, in Russian and English, so that the portal's own lead export and
 * its lead-import sample file go back in with no mapping. Sources (the crm module's language files):
 * crm.lead.import and crm.lead.list component.php (column names), classes/general/crm_field_multi.php
 * (the "FULL" name of every TYPE_VALUETYPE pair, as CCrmFieldMulti::ListAddHeaders puts them in the header),
 * lib/entityaddress.php (address part labels, long and short). Used offline too; online the portal's own
 * crm.lead.fields titles (in its language) are accepted as well (preflight.ts).
 *
 * A target is a field code, a multifield `TYPE_VALUETYPE`, or a column no crm.lead.update field holds (DERIVED).
 */

/**
 * Columns the export and the sample carry that crm.lead.update has no field for: composed from other columns
 * (full name, full address) or product rows (crm.lead.productrows.set, not this import). A file that has them is
 * read without them, with one warning.
 */
export const DERIVED_COLUMNS: Readonly<Record<string, string>> = {
  FULL_NAME: 'composed by the portal from NAME, SECOND_NAME and LAST_NAME: write those columns',
  FULL_ADDRESS: 'composed by the portal from the ADDRESS_* parts: write those columns',
  PRODUCT_ID: "the lead's product rows are not lead fields (crm.lead.productrows.set)",
  PRODUCT_PRICE: "the lead's product rows are not lead fields (crm.lead.productrows.set)",
  PRODUCT_QUANTITY: "the lead's product rows are not lead fields (crm.lead.productrows.set)",
};

/** The header names that mean the full address when another column holds ADDRESS (the sample has both). */
export const FULL_ADDRESS_NAMES: ReadonlySet<string> = new Set(['address', 'адрес']);

/** target → the names Bitrix24 writes for it (ru, en). */
const NAMES: ReadonlyArray<readonly [target: string, ...names: string[]]> = [
  ['ID', 'ИД'],
  ['TITLE', 'Название лида', 'Lead Name', 'Lead Title'],
  ['HONORIFIC', 'Обращение', 'Salutation'],
  ['NAME', 'Имя', 'First Name'],
  ['LAST_NAME', 'Фамилия', 'Last Name'],
  ['SECOND_NAME', 'Отчество', 'Middle Name'],
  ['FULL_NAME', 'Имя, Фамилия', 'Полное имя', 'First And Last Names', 'Full name'],
  ['BIRTHDATE', 'Дата рождения', 'Date of birth'],
  ['ADDRESS', 'Адрес', 'Улица', 'Улица, дом, корпус, строение', 'Street', 'Street, building'],
  [
    'ADDRESS_2',
    'Квартира',
    'Квартира / офис',
    'Квартира, офис, комната, этаж',
    'Apartment / Suite',
    'Suite / Apartment',
    'Apartment, office, room, floor',
    'Address (Line 2)',
  ],
  ['ADDRESS_CITY', 'Город', 'City'],
  ['ADDRESS_REGION', 'Район', 'Region'],
  ['ADDRESS_PROVINCE', 'Область', 'State / Province', 'Province'],
  ['ADDRESS_POSTAL_CODE', 'Индекс', 'Почтовый индекс', 'Zip', 'Postal Code'],
  ['ADDRESS_COUNTRY', 'Страна', 'Country'],
  ['COMPANY_TITLE', 'Название компании', 'Company Name'],
  ['POST', 'Должность', 'Position'],
  ['COMMENTS', 'Комментарий', 'Comment'],
  ['STATUS_ID', 'Статус', 'Стадия', 'Status', 'Stage'],
  ['STATUS_DESCRIPTION', 'Дополнительно о статусе', 'Status information', 'More about this stage'],
  ['PRODUCT_ID', 'Товар', 'Product'],
  ['PRODUCT_PRICE', 'Цена', 'Price'],
  ['PRODUCT_QUANTITY', 'Количество', 'Quantity'],
  ['OPPORTUNITY', 'Возможная сумма', 'Сумма', 'Opportunity', 'Amount'],
  ['CURRENCY_ID', 'Валюта', 'Currency'],
  ['SOURCE_ID', 'Источник', 'Source'],
  ['SOURCE_DESCRIPTION', 'Дополнительно об источнике', 'Source information'],
  ['OPENED', 'Доступен для всех', 'Available to everyone'],
  ['ASSIGNED_BY_ID', 'Ответственный', 'Responsible', 'Responsible person'],
  // Read-only: named so that they are refused (or skipped) for what they are, not as unknown.
  ['DATE_CREATE', 'Дата создания', 'Created'],
  ['DATE_MODIFY', 'Дата изменения', 'Modified'],
  ['CREATED_BY_ID', 'Кем создан', 'Created by'],
  ['MODIFY_BY_ID', 'Кем изменен', 'Modified by'],
  ['HAS_PHONE', 'Задан телефон', 'Has phone'],
  ['HAS_EMAIL', 'Задан e-mail', 'Has E-mail'],
  ['STATUS_SEMANTIC_ID', 'Состояние', 'Status group'],
  ['IS_RETURN_CUSTOMER', 'Повторный лид', 'Repeat lead'],
  // Multifields: the generic columns, then CCrmFieldMulti's full names per VALUE_TYPE.
  ['PHONE', 'Телефон', 'Phone'],
  ['EMAIL', 'E-mail'],
  ['WEB', 'Сайт', 'Site', 'Website'],
  ['IM', 'Мессенджер', 'Messenger'],
  ['PHONE_WORK', 'Рабочий телефон', 'Work Phone'],
  ['PHONE_MOBILE', 'Мобильный телефон', 'Mobile'],
  ['PHONE_FAX', 'Номер факса', 'Fax'],
  ['PHONE_HOME', 'Домашний телефон', 'Home Phone'],
  ['PHONE_PAGER', 'Номер пейджера', 'Pager Number'],
  ['PHONE_MAILING', 'Телефон для рассылок', 'SMS marketing phone'],
  ['PHONE_OTHER', 'Другой телефон', 'Other Phone Number'],
  ['EMAIL_WORK', 'Рабочий e-mail', 'Work E-mail'],
  ['EMAIL_HOME', 'Частный e-mail', 'Home E-mail'],
  ['EMAIL_MAILING', 'E-mail для рассылок', 'Newsletters email'],
  ['EMAIL_OTHER', 'Другой e-mail', 'Other E-mail'],
  ['WEB_WORK', 'Корпоративный сайт', 'Corporate Website'],
  ['WEB_HOME', 'Личная страница', 'Personal Page'],
  ['WEB_FACEBOOK', 'Страница Facebook', 'Facebook Page'],
  ['WEB_VK', 'Страница ВКонтакте', 'VK Page'],
  ['WEB_LIVEJOURNAL', 'Страница LiveJournal', 'LiveJournal'],
  ['WEB_TWITTER', 'Микроблог Twitter', 'Twitter'],
  ['WEB_OTHER', 'Другой сайт', 'Other Website'],
  ['IM_FACEBOOK', 'Контакт Facebook', 'Facebook account'],
  ['IM_TELEGRAM', 'Контакт Telegram', 'Telegram account'],
  ['IM_VK', 'Контакт ВКонтакте', 'VK account'],
  ['IM_SKYPE', 'Контакт Skype', 'Skype ID'],
  ['IM_VIBER', 'Контакт Viber', 'Viber contact'],
  ['IM_INSTAGRAM', 'Комментарии Instagram', 'Instagram comments'],
  ['IM_BITRIX24', 'Контакт Битрикс24.Network', 'Контакт Битрикс24 Network', 'Bitrix24.Network account'],
  ['IM_OPENLINE', 'Онлайн-чат', 'Live Chat'],
  ['IM_IMOL', 'Контакт Открытая линия', 'Open Channel account'],
  ['IM_ICQ', 'Контакт ICQ', 'ICQ Number'],
  ['IM_MSN', 'Контакт MSN/Live!', 'MSN/Live!'],
  ['IM_JABBER', 'Контакт Jabber', 'Jabber'],
  ['IM_OTHER', 'Другой контакт', 'Other Contact'],
  ['LINK_USER', 'Связанный пользователь'],
];

/** A column title as names are compared: case-insensitive, inner runs of spaces as one. */
export function nameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Normalised name → target (`TITLE`, `PHONE_MOBILE`, `FULL_NAME`…). One name has one target. */
export const BUILT_IN_COLUMN_NAMES: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const [target, ...names] of NAMES) {
    for (const name of names) {
      const key = nameKey(name);
      // A name listed twice for different targets would make the table lie about one of them.
      if (map.has(key) && map.get(key) !== target) throw new Error(`columnNames: "${name}" names ${map.get(key)} and ${target}`);
      map.set(key, target);
    }
  }
  return map;
})();
