import hashlib
import hmac
import unittest

from rolling_restart_hook import notify
from tests.helpers import parse

FULL = {
    "BOOT_MS": "1173", "ROOT": "/srv/app/releases/2026-05-09", "RELEASE": "2026-05-09",
    "STATUS": "200 OK", "GROUP": "app:blue", "PPID": 5150, "PID": 5154, "READY": "1",
}


def split_mac(datagram):
    index = datagram.rindex(b"MAC=")
    return datagram[:index], datagram[index + 4:]


class DatagramFormatTest(unittest.TestCase):
    def test_lines_in_protocol_order_without_trailing_newline(self):
        self.assertEqual(
            notify.build_datagram(FULL),
            b"READY=1\nPID=5154\nPPID=5150\nGROUP=app:blue\nSTATUS=200 OK\n"
            b"RELEASE=2026-05-09\nROOT=/srv/app/releases/2026-05-09\nBOOT_MS=1173")

    def test_absent_and_none_fields_are_left_out_and_unknown_keys_ignored(self):
        datagram = notify.build_datagram({"READY": "0", "PID": 7, "GROUP": None, "EXTRA": "x"})
        self.assertEqual(datagram, b"READY=0\nPID=7")

    def test_ready_and_pid_are_required(self):
        with self.assertRaises(ValueError):
            notify.build_datagram({"PID": 1})
        with self.assertRaises(ValueError):
            notify.build_datagram({"READY": "1"})

    def test_newlines_and_control_characters_become_spaces(self):
        fields = dict(FULL, STATUS="error: ValueError: bad\nPID=1\r\nMAC=00\x00\x1b[31m",
                      RELEASE="v1\u2028v2\x85")
        parsed = parse(notify.build_datagram(fields))
        self.assertEqual(parsed["PID"], "5154")
        self.assertEqual(parsed["STATUS"], "error: ValueError: bad PID=1  MAC=00  [31m")
        self.assertEqual(parsed["RELEASE"], "v1 v2")
        self.assertNotIn("MAC", parsed)
        self.assertEqual(len(parsed), 8)

    def test_no_replacement_character_reaches_the_wire(self):
        # the supervisor drops any datagram containing U+FFFD as invalid UTF-8
        fields = dict(FULL, RELEASE=b"rev-\xff\xfe", STATUS="200 \ufffd OK")
        datagram = notify.build_datagram(fields)
        self.assertNotIn("\ufffd", datagram.decode("utf-8"))
        self.assertEqual(parse(datagram)["RELEASE"], "rev-??")

    def test_undecodable_path_characters_do_not_break_encoding(self):
        fields = dict(FULL, ROOT="/srv/\udcff/app")
        parsed = parse(notify.build_datagram(fields))
        self.assertEqual(parsed["ROOT"], "/srv/?/app")


class DatagramSizeTest(unittest.TestCase):
    def test_long_status_is_truncated_to_fit(self):
        fields = dict(FULL, READY="0", STATUS="error: RuntimeError: " + "x" * 5000)
        datagram = notify.build_datagram(fields)
        self.assertLessEqual(len(datagram), 2048)
        parsed = parse(datagram)
        self.assertTrue(parsed["STATUS"].startswith("error: RuntimeError: xxx"))
        self.assertEqual(parsed["RELEASE"], "2026-05-09")  # untouched while STATUS can give
        self.assertEqual(parsed["ROOT"], FULL["ROOT"])

    def test_fills_the_budget_exactly_when_truncating(self):
        fields = dict(FULL, STATUS="500 " + "y" * 5000)
        self.assertEqual(len(notify.build_datagram(fields)), 2048)
        self.assertEqual(len(notify.build_datagram(fields, secret=b"k")), 2048)

    def test_long_release_is_truncated_after_status(self):
        fields = dict(FULL, STATUS="500 " + "s" * 3000, RELEASE="r" * 3000)
        parsed = parse(notify.build_datagram(fields))
        self.assertTrue(parsed["STATUS"].startswith("500 sss"))
        self.assertLessEqual(len(parsed["STATUS"].encode()), 32)
        self.assertTrue(parsed["RELEASE"].startswith("rrr"))
        self.assertEqual(parsed["ROOT"], FULL["ROOT"])

    def test_multibyte_text_is_cut_on_a_character_boundary(self):
        fields = dict(FULL, STATUS="500 " + "\u00e9\u20ac" * 2000)
        datagram = notify.build_datagram(fields, secret=b"key")
        self.assertLessEqual(len(datagram), 2048)
        datagram.decode("utf-8")  # strict: raises on a split character

    def test_every_size_around_the_limit_fits_and_parses(self):
        for size in range(1800, 2200, 7):
            for secret in (None, b"key"):
                fields = dict(FULL, STATUS="200 " + "z" * size)
                datagram = notify.build_datagram(fields, secret=secret)
                self.assertLessEqual(len(datagram), 2048, (size, secret))
                parsed = parse(datagram)
                self.assertTrue(parsed["STATUS"].startswith("200 "))

    def test_absurd_root_is_dropped_rather_than_cut(self):
        fields = dict(FULL, ROOT="/" + "d" * 4000)
        parsed = parse(notify.build_datagram(fields))
        self.assertNotIn("ROOT", parsed)
        self.assertEqual(parsed["STATUS"], "200 OK")


class MacTest(unittest.TestCase):
    def test_mac_is_hmac_sha256_of_every_byte_before_it(self):
        key = b"s3cret key"
        datagram = notify.build_datagram(FULL, secret=key)
        body, mac = split_mac(datagram)
        self.assertTrue(body.endswith(b"BOOT_MS=1173\n"))
        self.assertEqual(mac.decode(), hmac.new(key, body, hashlib.sha256).hexdigest())
        self.assertRegex(mac.decode(), "^[0-9a-f]{64}$")
        self.assertEqual(body[:-1], notify.build_datagram(FULL))
        self.assertEqual(list(parse(datagram))[-1], "MAC")

    def test_str_and_bytes_secret_agree(self):
        self.assertEqual(notify.build_datagram(FULL, secret="k\u00e9y"),
                         notify.build_datagram(FULL, secret="k\u00e9y".encode("utf-8")))

    def test_mac_covers_truncated_content(self):
        key = b"k"
        datagram = notify.build_datagram(dict(FULL, STATUS="500 " + "q" * 4000), secret=key)
        body, mac = split_mac(datagram)
        self.assertEqual(mac.decode(), hmac.new(key, body, hashlib.sha256).hexdigest())

    def test_different_key_gives_different_mac(self):
        self.assertNotEqual(split_mac(notify.build_datagram(FULL, b"a"))[1],
                            split_mac(notify.build_datagram(FULL, b"b"))[1])


if __name__ == "__main__":
    unittest.main()
