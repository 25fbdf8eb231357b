{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100,
			100,
			960,
			560
		],
		"openinpresentation": 1,
		"devicewidth": 400.0,
		"default_fontsize": 10.0,
		"default_fontname": "Arial",
		"description": "drumgrid: render the selected MIDI clip through a running drumgrid serve",
		"boxes": [
			{
				"box": {
					"id": "thisdevice",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						20,
						20,
						100,
						22
					],
					"text": "live.thisdevice"
				}
			},
			{
				"box": {
					"id": "init",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						20,
						50,
						40,
						22
					],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "m_tracks",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20,
						80,
						50,
						22
					],
					"text": "tracks"
				}
			},
			{
				"box": {
					"id": "m_sub",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						80,
						80,
						100,
						22
					],
					"text": "subscribe 9010"
				}
			},
			{
				"box": {
					"id": "d_in",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20,
						300,
						60,
						22
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "js",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						20,
						340,
						200,
						22
					],
					"text": "js drumgrid.js",
					"saved_object_attributes": {
						"filename": "drumgrid.js",
						"parameter_enable": 0
					}
				}
			},
			{
				"box": {
					"id": "b_render",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						200,
						20,
						60,
						20
					],
					"text": "Render",
					"presentation": 1,
					"presentation_rect": [
						8,
						8,
						58,
						20
					],
					"varname": "drumgrid_render",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Render",
							"parameter_shortname": "Render",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_render",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [
						200,
						50,
						40,
						22
					],
					"text": "sel 1"
				}
			},
			{
				"box": {
					"id": "m_render",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						200,
						80,
						50,
						22
					],
					"text": "render"
				}
			},
			{
				"box": {
					"id": "b_cancel",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						270,
						20,
						60,
						20
					],
					"text": "Cancel",
					"presentation": 1,
					"presentation_rect": [
						70,
						8,
						58,
						20
					],
					"varname": "drumgrid_cancel",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Cancel",
							"parameter_shortname": "Cancel",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_cancel",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [
						270,
						50,
						40,
						22
					],
					"text": "sel 1"
				}
			},
			{
				"box": {
					"id": "m_cancel",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						270,
						80,
						50,
						22
					],
					"text": "cancel"
				}
			},
			{
				"box": {
					"id": "b_place",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						340,
						20,
						60,
						20
					],
					"text": "Place",
					"presentation": 1,
					"presentation_rect": [
						132,
						8,
						58,
						20
					],
					"varname": "drumgrid_place",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Place",
							"parameter_shortname": "Place",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_place",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [
						340,
						50,
						40,
						22
					],
					"text": "sel 1"
				}
			},
			{
				"box": {
					"id": "m_place",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						340,
						80,
						50,
						22
					],
					"text": "place"
				}
			},
			{
				"box": {
					"id": "b_tracks",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						410,
						20,
						60,
						20
					],
					"text": "Tracks",
					"presentation": 1,
					"presentation_rect": [
						194,
						8,
						58,
						20
					],
					"varname": "drumgrid_tracks",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Tracks",
							"parameter_shortname": "Tracks",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_tracks",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [
						410,
						50,
						40,
						22
					],
					"text": "sel 1"
				}
			},
			{
				"box": {
					"id": "m_tracks",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						410,
						80,
						50,
						22
					],
					"text": "tracks"
				}
			},
			{
				"box": {
					"id": "kit",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"patching_rect": [
						200,
						120,
						100,
						22
					],
					"text": "",
					"presentation": 1,
					"presentation_rect": [
						8,
						34,
						120,
						20
					],
					"keymode": 1,
					"lines": 1
				}
			},
			{
				"box": {
					"id": "p_kit",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						200,
						150,
						130,
						22
					],
					"text": "prepend setoption kit"
				}
			},
			{
				"box": {
					"id": "seed",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						340,
						120,
						60,
						15
					],
					"text": "Seed",
					"presentation": 1,
					"presentation_rect": [
						134,
						34,
						58,
						15
					],
					"varname": "drumgrid_seed",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 100000,
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_seed",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						340,
						150,
						140,
						22
					],
					"text": "prepend setoption seed"
				}
			},
			{
				"box": {
					"id": "variations",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						430,
						120,
						60,
						15
					],
					"text": "Takes",
					"presentation": 1,
					"presentation_rect": [
						198,
						34,
						58,
						15
					],
					"varname": "drumgrid_variations",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Takes",
							"parameter_shortname": "Takes",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 16,
							"parameter_initial": [
								1
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_variations",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						430,
						150,
						140,
						22
					],
					"text": "prepend setoption variations"
				}
			},
			{
				"box": {
					"id": "decoding",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						540,
						120,
						100,
						20
					],
					"text": "Decoding",
					"presentation": 1,
					"presentation_rect": [
						262,
						34,
						132,
						20
					],
					"varname": "drumgrid_decoding",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Decoding",
							"parameter_shortname": "Decoding",
							"parameter_type": 2,
							"parameter_enum": [
								"auto",
								"parallel",
								"iterative"
							],
							"parameter_initial": [
								0
							],
							"parameter_initial_enable": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "p_dec",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						540,
						150,
						120,
						22
					],
					"text": "prepend setdecoding"
				}
			},
			{
				"box": {
					"id": "trackmenu",
					"maxclass": "umenu",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						680,
						120,
						120,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						8,
						58,
						180,
						22
					],
					"items": []
				}
			},
			{
				"box": {
					"id": "p_track",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						680,
						150,
						100,
						22
					],
					"text": "prepend settrack"
				}
			},
			{
				"box": {
					"id": "d_out",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20,
						380,
						60,
						22
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "udpsend",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20,
						410,
						150,
						22
					],
					"text": "udpsend 127.0.0.1 9000"
				}
			},
			{
				"box": {
					"id": "udpreceive",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20,
						250,
						110,
						22
					],
					"text": "udpreceive 9010"
				}
			},
			{
				"box": {
					"id": "d_rx",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20,
						275,
						60,
						22
					],
					"text": "deferlow"
				}
			},
			{
				"box": {
					"id": "route",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 5,
					"patching_rect": [
						240,
						380,
						220,
						22
					],
					"text": "route status progress path tracks"
				}
			},
			{
				"box": {
					"id": "p_status",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						240,
						410,
						80,
						22
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "statusbox",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						240,
						440,
						200,
						20
					],
					"text": "idle",
					"presentation": 1,
					"presentation_rect": [
						194,
						58,
						200,
						20
					]
				}
			},
			{
				"box": {
					"id": "progressbar",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						340,
						410,
						100,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						8,
						84,
						386,
						10
					],
					"orientation": 1,
					"floatoutput": 1,
					"size": 1.0
				}
			},
			{
				"box": {
					"id": "buffer",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						480,
						380,
						150,
						22
					],
					"text": "buffer~ drumgrid_preview"
				}
			},
			{
				"box": {
					"id": "wave",
					"maxclass": "waveform~",
					"numinlets": 5,
					"numoutlets": 6,
					"patching_rect": [
						480,
						440,
						200,
						60
					],
					"presentation": 1,
					"presentation_rect": [
						8,
						98,
						386,
						60
					]
				}
			},
			{
				"box": {
					"id": "m_setwave",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						480,
						410,
						130,
						22
					],
					"text": "set drumgrid_preview"
				}
			},
			{
				"box": {
					"id": "b_play",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						700,
						380,
						60,
						20
					],
					"text": "Preview",
					"presentation": 1,
					"presentation_rect": [
						256,
						8,
						58,
						20
					],
					"varname": "drumgrid_preview_play",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "drumgrid Preview",
							"parameter_shortname": "Preview",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "sel_play",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [
						700,
						410,
						50,
						22
					],
					"text": "sel 1 0"
				}
			},
			{
				"box": {
					"id": "m_start",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						700,
						440,
						40,
						22
					],
					"text": "start"
				}
			},
			{
				"box": {
					"id": "m_stop",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						750,
						440,
						40,
						22
					],
					"text": "stop"
				}
			},
			{
				"box": {
					"id": "play",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						700,
						470,
						140,
						22
					],
					"text": "play~ drumgrid_preview"
				}
			},
			{
				"box": {
					"id": "plugout",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 0,
					"patching_rect": [
						700,
						500,
						60,
						22
					],
					"text": "plugout~"
				}
			},
			{
				"box": {
					"id": "midiin",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						860,
						20,
						50,
						22
					],
					"text": "midiin"
				}
			},
			{
				"box": {
					"id": "midiout",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						860,
						60,
						55,
						22
					],
					"text": "midiout"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [
						"thisdevice",
						0
					],
					"destination": [
						"init",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						0
					],
					"destination": [
						"m_sub",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						1
					],
					"destination": [
						"m_tracks",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_tracks",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_sub",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"d_in",
						0
					],
					"destination": [
						"js",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_render",
						0
					],
					"destination": [
						"sel_render",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_render",
						0
					],
					"destination": [
						"m_render",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_render",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_cancel",
						0
					],
					"destination": [
						"sel_cancel",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_cancel",
						0
					],
					"destination": [
						"m_cancel",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_cancel",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_place",
						0
					],
					"destination": [
						"sel_place",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_place",
						0
					],
					"destination": [
						"m_place",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_place",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_tracks",
						0
					],
					"destination": [
						"sel_tracks",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_tracks",
						0
					],
					"destination": [
						"m_tracks",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_tracks",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"kit",
						0
					],
					"destination": [
						"p_kit",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_kit",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"seed",
						0
					],
					"destination": [
						"p_seed",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_seed",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"variations",
						0
					],
					"destination": [
						"p_variations",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_variations",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"decoding",
						0
					],
					"destination": [
						"p_dec",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_dec",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"trackmenu",
						0
					],
					"destination": [
						"p_track",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_track",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						0
					],
					"destination": [
						"d_out",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"d_out",
						0
					],
					"destination": [
						"udpsend",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"udpreceive",
						0
					],
					"destination": [
						"d_rx",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"d_rx",
						0
					],
					"destination": [
						"d_in",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						1
					],
					"destination": [
						"route",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"route",
						0
					],
					"destination": [
						"p_status",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"p_status",
						0
					],
					"destination": [
						"statusbox",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"route",
						1
					],
					"destination": [
						"progressbar",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"route",
						3
					],
					"destination": [
						"trackmenu",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"js",
						2
					],
					"destination": [
						"buffer",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"init",
						0
					],
					"destination": [
						"m_setwave",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_setwave",
						0
					],
					"destination": [
						"wave",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"b_play",
						0
					],
					"destination": [
						"sel_play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_play",
						0
					],
					"destination": [
						"m_start",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"sel_play",
						1
					],
					"destination": [
						"m_stop",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_start",
						0
					],
					"destination": [
						"play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"m_stop",
						0
					],
					"destination": [
						"play",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"play",
						0
					],
					"destination": [
						"plugout",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"play",
						0
					],
					"destination": [
						"plugout",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"midiin",
						0
					],
					"destination": [
						"midiout",
						0
					]
				}
			}
		],
		"dependency_cache": [
			{
				"name": "drumgrid.js",
				"bootpath": ".",
				"patcherrelativepath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"latency": 0
	}
}
